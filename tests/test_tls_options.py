"""TLS options: client certificates (cert=), pool keys per TLS configuration, and
shared contexts that are not rebuilt per Session."""

from __future__ import annotations

import pathlib
import ssl
from collections.abc import Awaitable, Callable

import pytest
import trustme
from conftest import RawConnection, RawServer, always, idle_connections

import rawhttp
from rawhttp import _tls

QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class PeerRecorder:
    """A handler answering "ok" to every request; records each connection's client
    certificate (its subjectAltName, or None without one) in ``peer_names``."""

    def __init__(self) -> None:
        self.peer_names: list[object] = []

    async def __call__(self, conn: RawConnection) -> None:
        peer = conn.writer.get_extra_info("peercert")
        self.peer_names.append(peer.get("subjectAltName") if peer else None)
        await always(OK)(conn)


@pytest.fixture
def tls_handler() -> PeerRecorder:
    """The servers of ``tls_server`` (conftest) record client certificates."""
    return PeerRecorder()


MakeTLS = Callable[..., Awaitable[RawServer]]


@pytest.fixture
def client_cert(ca: trustme.CA, tmp_path: pathlib.Path) -> tuple[str, str]:
    """A client certificate issued by the CA: (certfile, keyfile)."""
    cert = ca.issue_cert("client.example")
    certfile = tmp_path / "client.crt"
    keyfile = tmp_path / "client.key"
    certfile.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(keyfile))
    return str(certfile), str(keyfile)


# -- client certificates --------------------------------------------------------


async def test_client_certificate_pair_is_presented(
    tls_server: MakeTLS, ca_path: str, client_cert: tuple[str, str]
) -> None:
    server = await tls_server(require_client_cert=True)
    async with rawhttp.Session(timeout=QUICK, verify=ca_path, cert=client_cert) as s:
        for _ in range(3):
            r = await s.get(server.url())
            assert r.content == b"ok"
        assert s.pool.connections == 1
    assert server.connections == 1
    assert len(server.requests) == 3
    assert server.handler.peer_names == [(("DNS", "client.example"),)]


async def test_client_certificate_single_pem_and_pathlike(
    tls_server: MakeTLS, ca_path: str, client_cert: tuple[str, str], tmp_path: pathlib.Path
) -> None:
    server = await tls_server(require_client_cert=True)
    certfile, keyfile = client_cert
    combined = tmp_path / "combined.pem"
    combined.write_bytes(pathlib.Path(keyfile).read_bytes() + pathlib.Path(certfile).read_bytes())
    async with rawhttp.Session(timeout=QUICK, verify=ca_path, cert=str(combined)) as s:
        assert (await s.get(server.url())).content == b"ok"
    pair = (pathlib.Path(certfile), pathlib.Path(keyfile))
    async with rawhttp.Session(timeout=QUICK, verify=pathlib.Path(ca_path), cert=pair) as s:
        assert (await s.get(server.url())).content == b"ok"
    assert len(server.requests) == 2
    assert server.handler.peer_names == [(("DNS", "client.example"),)] * 2


async def test_missing_client_certificate_is_a_rawhttp_error(
    tls_server: MakeTLS, ca_path: str
) -> None:
    server = await tls_server(require_client_cert=True)
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        # TLS 1.3 reports the missing certificate after the handshake, with an alert on
        # the first read.  asyncio (3.11) turns that alert into a plain EOF, so rawhttp
        # sees "closed without a response" (ProtocolError); a reset is a ReadError.
        with pytest.raises((rawhttp.TLSError, rawhttp.ReadError, rawhttp.ProtocolError)) as info:
            await s.get(server.url())
        assert isinstance(info.value, rawhttp.TransportError)
        assert not isinstance(info.value, rawhttp.TimeoutError)
        assert s.pool.in_use == 0
        assert s.pool.connections == 0
    assert len(server.requests) == 0


async def test_missing_client_certificate_with_tls12_is_tls_error(
    tls_server: MakeTLS, ca: trustme.CA
) -> None:
    server = await tls_server(require_client_cert=True)
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # the server refuses during the handshake
    async with rawhttp.Session(timeout=QUICK, verify=ctx) as s:
        # The server aborts the handshake: TLSError, or ConnectError when it resets first.
        with pytest.raises(rawhttp.ConnectError) as info:
            await s.get(server.url())
        assert not isinstance(info.value, rawhttp.TimeoutError)
        assert s.pool.connections == 0
    assert len(server.requests) == 0


async def test_client_certificate_from_another_ca_is_refused(
    tls_server: MakeTLS, ca_path: str, tmp_path: pathlib.Path
) -> None:
    server = await tls_server(require_client_cert=True)
    other = trustme.CA().issue_cert("intruder.example")
    certfile, keyfile = tmp_path / "other.crt", tmp_path / "other.key"
    other.cert_chain_pems[0].write_to_path(str(certfile))
    other.private_key_pem.write_to_path(str(keyfile))
    async with rawhttp.Session(
        timeout=QUICK, verify=ca_path, cert=(str(certfile), str(keyfile))
    ) as s:
        with pytest.raises((rawhttp.TLSError, rawhttp.ReadError, rawhttp.ProtocolError)):
            await s.get(server.url())
        assert s.pool.connections == 0
    assert len(server.requests) == 0


async def test_unreadable_client_certificate_is_tls_error(
    ca_path: str, tmp_path: pathlib.Path
) -> None:
    missing = (str(tmp_path / "nope.crt"), str(tmp_path / "nope.key"))
    async with rawhttp.Session(timeout=QUICK, verify=ca_path, cert=missing) as s:
        with pytest.raises(rawhttp.TLSError, match="client certificate"):
            await s.get("https://127.0.0.1:9/")
        assert s.pool.connections == 0
        assert s.pool.in_use == 0
    with pytest.raises(TypeError, match="load the client certificate into that context"):
        _tls.context_for(ssl.create_default_context(), missing)


# -- pool keys per TLS configuration -----------------------------------------------


def test_tls_keys_differ_per_configuration(ca_path: str, client_cert: tuple[str, str]) -> None:
    configs = [(True, None), (False, None), (ca_path, None), (ca_path, client_cert)]
    keys = [_tls.tls_key(verify, cert) for verify, cert in configs]  # type: ignore[arg-type]
    assert len(set(keys)) == len(configs)
    assert _tls.tls_key(True, client_cert) not in keys
    assert _tls.tls_key(False, client_cert) not in keys
    # Equal configurations spelled differently share a key.
    assert _tls.tls_key(pathlib.Path(ca_path), None) == _tls.tls_key(ca_path, None)
    certfile, keyfile = client_cert
    assert _tls.tls_key(ca_path, (pathlib.Path(certfile), keyfile)) == _tls.tls_key(
        ca_path, client_cert
    )
    # And the contexts differ too.
    contexts = [_tls.context_for(verify, cert) for verify, cert in configs]  # type: ignore[arg-type]
    assert len({id(c) for c in contexts}) == len(configs)
    assert contexts[1].verify_mode == ssl.CERT_NONE
    assert all(c.verify_mode == ssl.CERT_REQUIRED for c in (contexts[0], *contexts[2:]))


async def test_unverified_connection_never_serves_a_verified_request(
    tls_server: MakeTLS, ca_path: str
) -> None:
    server = await tls_server()
    async with (
        rawhttp.Session(timeout=QUICK, verify=False) as loose,
        rawhttp.Session(timeout=QUICK, verify=ca_path) as strict,
        rawhttp.Session(timeout=QUICK) as default,
    ):
        assert (await loose.get(server.url())).content == b"ok"
        assert (await strict.get(server.url())).content == b"ok"
        # The certifi bundle does not know the test CA: a connection of its own, refused.
        with pytest.raises(rawhttp.TLSError, match="certificate verif"):
            await default.get(server.url())
        keys = {conn.key[3] for s in (loose, strict) for conn in idle_connections(s)}
        assert keys == {_tls.tls_key(False), _tls.tls_key(ca_path)}
        (loose_conn,) = idle_connections(loose)
        assert loose_conn.key == ("https", "127.0.0.1", server.port, _tls.tls_key(False))
        assert default.pool.connections == 0
    assert server.connections == 2  # counted after a handshake: the refused one is not


# -- shared contexts ----------------------------------------------------------------


async def test_sessions_share_contexts_and_do_not_reload_the_ca_bundle(
    tls_server: MakeTLS, ca_path: str
) -> None:
    server = await tls_server()
    default = _tls.context_for(True)
    unverified = _tls.context_for(False)
    for _ in range(100):
        s = rawhttp.Session(timeout=QUICK)
        assert _tls.context_for(s.verify, s.cert) is default
        await s.aclose()
    assert _tls.context_for(False) is unverified
    # One https request each from 100 Sessions with verify=ca_path: one context, built once.
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        await s.get(server.url())
    before = _tls._context.cache_info()
    contexts = set()
    for _ in range(100):
        async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
            assert (await s.get(server.url())).content == b"ok"
            contexts.add(id(_tls.context_for(s.verify, s.cert)))
    after = _tls._context.cache_info()
    assert after.misses == before.misses
    assert after.hits >= before.hits + 100
    assert len(contexts) == 1
    assert server.connections == 101
