"""TLS contexts: built lazily, once per configuration, and shared by every connection.

Loading a CA bundle costs milliseconds, so contexts are cached at module level:
``verify=True`` (certifi's bundle) and each CA bundle path load once per
process.  A caller's own ``ssl.SSLContext`` is used as given, never mutated.

The CA certificates ``verify=True`` trusts may come from the environment, as
OpenSSL reads it (:func:`verify_from_env`, for a Session with ``trust_env``):
``SSL_CERT_FILE`` names a CA bundle used instead of certifi's, ``SSL_CERT_DIR`` a
directory of certificates named by their subject hash (``openssl rehash``) looked
in as well.  ``verify="system"`` asks the operating system's trust store, through
the optional ``truststore`` package (``pip install rawhttp[truststore]``).
"""

from __future__ import annotations

import functools
import os
import ssl
from collections.abc import Mapping
from typing import NamedTuple, TypeAlias

__all__ = [
    "CALocations",
    "CertTypes",
    "ResolvedVerify",
    "VerifyTypes",
    "context_for",
    "tls_key",
    "verify_from_env",
]

VerifyTypes: TypeAlias = "bool | str | os.PathLike[str] | ssl.SSLContext"
CertTypes: TypeAlias = (
    "str | os.PathLike[str] | tuple[str | os.PathLike[str], str | os.PathLike[str]]"
)
SYSTEM = "system"
"""``verify="system"``: the operating system's trust store (needs ``truststore``)."""


class CALocations(NamedTuple):
    """CA certificates named by the environment: ``cafile`` (``SSL_CERT_FILE``)
    replaces certifi's bundle, ``capath`` (``SSL_CERT_DIR``) is searched too."""

    cafile: str | None
    capath: str | None


ResolvedVerify: TypeAlias = "VerifyTypes | CALocations"
"""What a Session hands its transport: its ``verify=``, or with ``trust_env`` and
``verify=True`` the CA locations the environment names (:func:`verify_from_env`)."""


def verify_from_env(
    verify: VerifyTypes, trust_env: bool, environ: Mapping[str, str] | None = None
) -> ResolvedVerify:
    """``verify`` as a Session uses it: with ``trust_env`` and ``verify=True`` (the
    default), the CA locations ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` name (an empty
    value counts as unset), as OpenSSL, curl and Python's own default context read
    them; any other ``verify`` is used as given.  Nothing is loaded or checked here:
    a path that cannot be loaded raises TLSError at the first https request, as a
    ``verify=`` path does."""
    if verify is not True or not trust_env:
        return verify
    env = os.environ if environ is None else environ
    cafile = env.get("SSL_CERT_FILE") or None
    capath = env.get("SSL_CERT_DIR") or None
    if cafile is None and capath is None:
        return True
    return CALocations(cafile, capath)


def _new_context(
    cafile: str | None,
    verify: bool,
    cert: tuple[str, str | None] | None = None,
    capath: str | None = None,
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname checks and CERT_REQUIRED on
    _configure(ctx, cert)
    if verify:
        ctx.load_verify_locations(cafile=cafile, capath=capath)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _configure(ctx: ssl.SSLContext, cert: tuple[str, str | None] | None) -> None:
    """What every context of rawhttp's own has: TLS 1.2 at least, ALPN http/1.1,
    and the client certificate."""
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(["http/1.1"])
    if cert is not None:
        ctx.load_cert_chain(cert[0], cert[1])


@functools.cache
def _certifi_context() -> ssl.SSLContext:
    import certifi  # imported only when an https request needs it

    return _new_context(certifi.where(), verify=True)


@functools.cache
def _unverified_context() -> ssl.SSLContext:
    return _new_context(None, verify=False)


def context_for(verify: ResolvedVerify, cert: CertTypes | None = None) -> ssl.SSLContext:
    """The shared SSLContext for a ``verify=`` (and ``cert=``) setting; TLSError
    (reason ``"ca_bundle"``) when its certificates cannot be loaded."""
    if isinstance(verify, ssl.SSLContext):
        if cert is not None:
            raise TypeError("with verify=SSLContext, load the client certificate into that context")
        return verify
    if cert is None and verify is True:
        return _certifi_context()
    if cert is None and verify is False:
        return _unverified_context()
    capath = None
    if isinstance(verify, CALocations):
        cafile, capath = verify
        what = f"CA bundle {cafile!r} (SSL_CERT_FILE)" if cafile else "certifi's CA bundle"
        if capath is not None:
            what += f" or CA directory {capath!r} (SSL_CERT_DIR)"
    elif verify == SYSTEM and isinstance(verify, str):  # (a path object is a file's)
        return _system_context(_cert_pair(cert))
    elif isinstance(verify, bool | str | os.PathLike):
        cafile = os.fspath(verify) if isinstance(verify, str | os.PathLike) else None
        what = f"CA bundle {cafile!r}" if cafile else "TLS settings"
    else:
        raise TypeError(
            "verify must be True, False, a CA bundle path, 'system' or an SSLContext, "
            f"not {verify!r}"
        )
    try:
        return _context(verify is not False, cafile, _cert_pair(cert), capath)
    except (OSError, ssl.SSLError) as exc:
        if cert is not None:
            what += f" or client certificate {cert!r}"
        raise _ca_error(f"cannot load {what}: {exc}") from exc


@functools.cache
def _context(
    verify: bool,
    cafile: str | None,
    cert: tuple[str, str | None] | None,
    capath: str | None = None,
) -> ssl.SSLContext:
    if verify and cafile is None:
        import certifi

        cafile = certifi.where()
    if capath is not None and not os.path.isdir(capath):
        # OpenSSL takes any capath and looks in it only during handshakes: a typo
        # would show as every certificate refused, not as the setting at fault.
        raise NotADirectoryError(f"not a directory: {capath!r}")
    return _new_context(cafile, verify, cert, capath)


@functools.cache
def _system_context(cert: tuple[str, str | None] | None) -> ssl.SSLContext:
    """A context verifying with the operating system's trust store (truststore)."""
    try:
        import truststore
    except ImportError as exc:
        raise _ca_error(
            "verify='system' needs the truststore package: pip install 'rawhttp[truststore]'"
        ) from exc
    ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        _configure(ctx, cert)
    except (OSError, ssl.SSLError) as exc:
        raise _ca_error(f"cannot load client certificate {cert!r}: {exc}") from exc
    return ctx


def _ca_error(message: str) -> Exception:
    from ._exceptions import TLSError

    return TLSError(message, reason="ca_bundle")


def _cert_pair(cert: CertTypes | None) -> tuple[str, str | None] | None:
    if cert is None:
        return None
    if isinstance(cert, tuple):
        certfile, keyfile = cert
        return os.fspath(certfile), os.fspath(keyfile)
    return os.fspath(cert), None


def tls_key(verify: ResolvedVerify, cert: CertTypes | None = None) -> object:
    """A hashable identity of a TLS configuration, part of each pool key."""
    if isinstance(verify, ssl.SSLContext):
        return ("context", id(verify))
    verify_key: object
    if isinstance(verify, bool):
        verify_key = verify
    elif isinstance(verify, CALocations):
        verify_key = ("environment", *verify)
    elif verify == SYSTEM and isinstance(verify, str):
        verify_key = SYSTEM
    else:
        verify_key = ("cafile", os.fspath(verify))
    return (verify_key, _cert_pair(cert))
