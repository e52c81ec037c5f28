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

__all__ = ["CertTypes", "VerifyTypes", "context_for", "tls_key"]

VerifyTypes: TypeAlias = "bool | str | os.PathLike[str] | ssl.SSLContext"
CertTypes: TypeAlias = (
    "str | os.PathLike[str] | tuple[str | os.PathLike[str], str | os.PathLike[str]]"
)


def _new_context(
    cafile: str | None, verify: bool, cert: tuple[str, str | None] | None = None
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname checks and CERT_REQUIRED on
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    if verify:
        ctx.load_verify_locations(cafile=cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert is not None:
        ctx.load_cert_chain(cert[0], cert[1])
    return ctx


@functools.cache
def _certifi_context() -> ssl.SSLContext:
    import certifi  # imported only when an https request needs it

    return _new_context(certifi.where(), verify=True)


@functools.cache
def _unverified_context() -> ssl.SSLContext:
    return _new_context(None, verify=False)


def context_for(verify: VerifyTypes, cert: CertTypes | None = None) -> ssl.SSLContext:
    """The shared SSLContext for a ``verify=`` (and ``cert=``) setting."""
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            raise TypeError("with verify=SSLContext, load the client certificate into that context")
        return verify
    if not isinstance(verify, bool | str | os.PathLike):
        raise TypeError(
            f"verify must be True, False, a CA bundle path or an SSLContext, not {verify!r}"
        )
    if cert is None and verify is True:
        return _certifi_context()
    if cert is None and verify is False:
        return _unverified_context()
    cafile = os.fspath(verify) if isinstance(verify, str | os.PathLike) else None
    try:
        return _context(verify is not False, cafile, _cert_pair(cert))
    except (OSError, ssl.SSLError) as exc:
        from ._exceptions import TLSError

        what = f"CA bundle {cafile!r}" if cafile else "TLS settings"
        if cert is not None:
            what += f" or client certificate {cert!r}"
        raise TLSError(f"cannot load {what}: {exc}", reason="ca_bundle") from exc


@functools.cache
def _context(
    verify: bool, cafile: str | None, cert: tuple[str, str | None] | None
) -> ssl.SSLContext:
    if verify and cafile is None:
        import certifi

        cafile = certifi.where()
    return _new_context(cafile, verify, cert)


def _cert_pair(cert: CertTypes | None) -> tuple[str, str | None] | None:
    if cert is None:
        return None
    if isinstance(cert, tuple):
        certfile, keyfile = cert
        return os.fspath(certfile), os.fspath(keyfile)
    return os.fspath(cert), None


def tls_key(verify: VerifyTypes, cert: CertTypes | None = None) -> object:
    """A hashable identity of a TLS configuration, part of each pool key."""
    if isinstance(verify, ssl.SSLContext):
        return ("context", id(verify))
    verify_key = verify if isinstance(verify, bool) else ("cafile", os.fspath(verify))
    return (verify_key, _cert_pair(cert))
