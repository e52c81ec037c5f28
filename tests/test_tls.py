"""HTTPS against a TLS server on 127.0.0.1 with certificates from trustme."""

from __future__ import annotations

import asyncio
import pathlib
import ssl
from collections.abc import Awaitable, Callable

import pytest
import trustme
from conftest import Handler, RawServer, always, idle_connections

import rawhttp
from rawhttp import _tls

BODY = b"hello over tls"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
MakeTLS = Callable[..., Awaitable[RawServer]]


@pytest.fixture
def tls_handler() -> Handler:
    """The servers of ``tls_server`` (conftest) answer every request with RESPONSE."""
    return always(RESPONSE)


def context_state(ctx: ssl.SSLContext) -> tuple[object, ...]:
    return (
        ctx.options,
        ctx.verify_mode,
        ctx.check_hostname,
        ctx.minimum_version,
        ctx.maximum_version,
        ctx.verify_flags,
        ctx.cert_store_stats(),
        len(ctx.get_ca_certs()),
    )


QUICK = rawhttp.Timeout(5.0)


async def test_verify_with_ca_bundle_path(tls_server: MakeTLS, ca_path: str) -> None:
    server = await tls_server("127.0.0.1", "localhost")
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        r = await s.get(server.url("/secure"))
        assert r.status == 200
        assert r.content == BODY
        assert r.url == f"https://127.0.0.1:{server.port}/secure"
    assert server.requests[0].startswith(b"GET /secure HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n".encode() in server.requests[0]


async def test_verify_with_pathlike(tls_server: MakeTLS, ca_path: str) -> None:
    server = await tls_server("127.0.0.1")
    async with rawhttp.Session(timeout=QUICK, verify=pathlib.Path(ca_path)) as s:
        assert (await s.get(server.url())).content == BODY


async def test_verify_with_ssl_context_is_not_mutated(tls_server: MakeTLS, ca: trustme.CA) -> None:
    server = await tls_server("127.0.0.1")
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    before = context_state(ctx)
    async with rawhttp.Session(timeout=QUICK, verify=ctx) as s:
        assert (await s.get(server.url())).content == BODY
        assert (await s.get(server.url())).content == BODY
    assert context_state(ctx) == before
    assert _tls.context_for(ctx) is ctx


async def test_caller_context_without_hostname_check_is_respected(
    tls_server: MakeTLS, ca: trustme.CA
) -> None:
    server = await tls_server("example.org")
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    ctx.check_hostname = False
    before = context_state(ctx)
    async with rawhttp.Session(timeout=QUICK, verify=ctx) as s:
        assert (await s.get(server.url())).content == BODY
    assert context_state(ctx) == before


async def test_default_verification_rejects_unknown_ca(tls_server: MakeTLS) -> None:
    server = await tls_server("127.0.0.1", "localhost")
    async with rawhttp.Session(timeout=QUICK) as s:  # verify=True: certifi's bundle
        with pytest.raises(rawhttp.TLSError) as info:
            await s.get(server.url())
        err = info.value
        assert isinstance(err, rawhttp.ConnectError)
        assert isinstance(err, rawhttp.Error)
        assert not isinstance(err, rawhttp.TimeoutError)
        message = str(err).lower()
        assert "certificate verif" in message
        assert "failed" in message
        assert s.pool.connections == 0
        assert s.pool.in_use == 0
    assert server.requests == []


async def test_wrong_hostname_is_rejected(tls_server: MakeTLS, ca_path: str) -> None:
    server = await tls_server("example.org")
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        with pytest.raises(rawhttp.TLSError) as info:
            await s.get(server.url())
        assert isinstance(info.value, rawhttp.Error)
        assert "certificate verif" in str(info.value).lower()
        assert s.pool.connections == 0
    assert server.requests == []


async def test_certificate_for_a_name_does_not_cover_the_ip(
    tls_server: MakeTLS, ca_path: str
) -> None:
    # A cert for "localhost" only, requested as 127.0.0.1: the IP is not in the cert.
    server = await tls_server("localhost")
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        with pytest.raises(rawhttp.TLSError) as info:
            await s.get(server.url())
        assert "127.0.0.1" in str(info.value)
    assert server.requests == []


async def test_verify_false_accepts_any_certificate(tls_server: MakeTLS) -> None:
    server = await tls_server("example.org")
    async with rawhttp.Session(timeout=QUICK, verify=False) as s:
        assert (await s.get(server.url())).content == BODY
    assert len(server.requests) == 1


async def test_keep_alive_over_tls(tls_server: MakeTLS, ca_path: str) -> None:
    server = await tls_server("127.0.0.1")
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        for _ in range(4):
            assert (await s.get(server.url())).content == BODY
        (conn,) = idle_connections(s)
        assert repr(conn) == f"<Connection https://127.0.0.1:{server.port} idle requests=4>"
        async with s.stream("GET", server.url()) as r:
            assert b"".join([c async for c in r.iter_bytes(3)]) == BODY
        assert s.pool.connections == 1
    assert server.connections == 1
    assert len(server.requests) == 5


async def test_stale_tls_connection_is_replaced(tls_server: MakeTLS, ca_path: str) -> None:
    server = await tls_server("127.0.0.1")
    async with rawhttp.Session(timeout=QUICK, verify=ca_path, keepalive_expiry=0.05) as s:
        assert (await s.get(server.url())).content == BODY
        await asyncio.sleep(0.15)
        assert (await s.post(server.url(), content=b"")).content == BODY
        assert s.pool.connections == 1
    assert server.connections == 2


async def test_http_and_https_are_different_pool_keys(tls_server: MakeTLS, ca_path: str) -> None:
    server = await tls_server("127.0.0.1")
    async with rawhttp.Session(timeout=QUICK, verify=ca_path) as s:
        await s.get(server.url())
        # Plain HTTP to the TLS port must not reuse the TLS connection.
        with pytest.raises(rawhttp.TransportError):
            await s.get(f"http://127.0.0.1:{server.port}/")
        assert (await s.get(server.url())).content == BODY


async def test_missing_ca_bundle_is_tls_error(tmp_path: pathlib.Path) -> None:
    missing = str(tmp_path / "nope.pem")
    async with rawhttp.Session(timeout=QUICK, verify=missing) as s:
        with pytest.raises(rawhttp.TLSError, match="cannot load CA bundle"):
            await s.get("https://127.0.0.1:9/")
        assert s.pool.connections == 0
        assert s.pool.in_use == 0


async def test_invalid_ca_bundle_is_tls_error(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(rawhttp.TLSError):
        _tls.context_for(str(bad))


def test_verify_of_wrong_type_is_type_error() -> None:
    with pytest.raises(TypeError):
        _tls.context_for(1)  # type: ignore[arg-type]


def test_default_context_settings() -> None:
    ctx = _tls.context_for(True)
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2
    assert len(ctx.get_ca_certs()) > 10  # certifi's bundle
    unverified = _tls.context_for(False)
    assert unverified.verify_mode == ssl.CERT_NONE
    assert not unverified.check_hostname


def test_contexts_are_cached(ca_path: str) -> None:
    assert _tls.context_for(True) is _tls.context_for(True)
    assert _tls.context_for(False) is _tls.context_for(False)
    assert _tls.context_for(ca_path) is _tls.context_for(pathlib.Path(ca_path))
    assert _tls.context_for(True) is not _tls.context_for(False)


async def test_default_context_is_created_once_for_two_sessions(tls_server: MakeTLS) -> None:
    server = await tls_server("127.0.0.1")
    _tls._certifi_context.cache_clear()
    for _ in range(2):  # trust_env=False: this machine's SSL_CERT_FILE would replace certifi
        async with rawhttp.Session(timeout=QUICK, trust_env=False) as s:
            with pytest.raises(rawhttp.TLSError):
                await s.get(server.url())
    info = _tls._certifi_context.cache_info()
    assert info.misses == 1
    assert info.hits >= 1
    assert info.currsize == 1


def test_tls_key_distinguishes_configurations(ca_path: str) -> None:
    ctx = ssl.create_default_context()
    keys = {
        _tls.tls_key(True),
        _tls.tls_key(False),
        _tls.tls_key(ca_path),
        _tls.tls_key(ctx),
        _tls.tls_key(ssl.create_default_context()),
    }
    assert len(keys) == 5
    assert _tls.tls_key(ca_path) == _tls.tls_key(pathlib.Path(ca_path))
