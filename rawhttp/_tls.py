"""TLS contexts: built lazily, once per configuration, and shared by every connection.

Loading a CA bundle costs milliseconds, so contexts are cached at module level:
``verify=True`` (certifi's bundle) and each CA bundle path load once per
process.  A caller's own ``ssl.SSLContext`` is used as given, never mutated.
"""

from __future__ import annotations

import functools
import os
import ssl
from typing import TypeAlias

__all__ = ["VerifyTypes", "context_for", "tls_key"]

VerifyTypes: TypeAlias = "bool | str | os.PathLike[str] | ssl.SSLContext"


def _new_context(cafile: str | None, verify: bool) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname checks and CERT_REQUIRED on
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    if verify:
        ctx.load_verify_locations(cafile=cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


@functools.cache
def _certifi_context() -> ssl.SSLContext:
    import certifi  # imported only when an https request needs it

    return _new_context(certifi.where(), verify=True)


@functools.cache
def _cafile_context(path: str) -> ssl.SSLContext:
    return _new_context(path, verify=True)


@functools.cache
def _unverified_context() -> ssl.SSLContext:
    return _new_context(None, verify=False)


def context_for(verify: VerifyTypes) -> ssl.SSLContext:
    """The shared SSLContext for a ``verify=`` setting."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is True:
        return _certifi_context()
    if verify is False:
        return _unverified_context()
    if isinstance(verify, str | os.PathLike):
        path = os.fspath(verify)
        try:
            return _cafile_context(path)
        except (OSError, ssl.SSLError) as exc:
            from ._exceptions import TLSError

            raise TLSError(f"cannot load CA bundle {path!r}: {exc}") from exc
    raise TypeError(
        f"verify must be True, False, a CA bundle path or an SSLContext, not {verify!r}"
    )


def tls_key(verify: VerifyTypes) -> object:
    """A hashable identity of a TLS configuration, part of each pool key."""
    if isinstance(verify, ssl.SSLContext):
        return ("context", id(verify))
    if isinstance(verify, bool):
        return verify
    return ("cafile", os.fspath(verify))
