"""The CA certificates a Session trusts from the environment (SSL_CERT_FILE,
SSL_CERT_DIR with trust_env), and verify="system" through the truststore package,
against loopback TLS servers with certificates from a test CA."""

from __future__ import annotations

import pathlib
import shutil
import ssl
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator

import pytest
import trustme
from conftest import RawServer, always, assert_clean

import rawhttp
from rawhttp import _tls
from rawhttp._tls import CALocations, verify_from_env

MakeTLS = Callable[..., Awaitable[RawServer]]
MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.fixture(autouse=True)
def no_ca_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sets the variables it wants; none come from the machine."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture
def hashed_dir(ca: trustme.CA, tmp_path: pathlib.Path) -> str:
    """A directory holding the test CA's certificate under its subject hash, as
    ``openssl rehash`` names it (what OpenSSL looks for in a CA directory)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to name a certificate by its hash")
    directory = tmp_path / "certs"
    directory.mkdir()
    pem = tmp_path / "ca-for-dir.pem"
    ca.cert_pem.write_to_path(str(pem))
    digest = subprocess.run(
        [openssl, "x509", "-subject_hash", "-noout", "-in", str(pem)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    shutil.copy(pem, directory / f"{digest}.0")
    return str(directory)


async def fetch(url: str, **options: object) -> bytes:
    async with rawhttp.Session(timeout=QUICK, **options) as s:  # type: ignore[arg-type]
        try:
            return (await s.get(url)).content
        finally:
            assert_clean(s)


# -- resolving the environment ------------------------------------------------------------


def test_verify_from_env() -> None:
    env = {"SSL_CERT_FILE": "/ca.pem", "SSL_CERT_DIR": "/certs"}
    assert verify_from_env(True, True, env) == CALocations("/ca.pem", "/certs")
    assert verify_from_env(True, True, {"SSL_CERT_FILE": "/ca.pem"}) == ("/ca.pem", None)
    assert verify_from_env(True, True, {"SSL_CERT_DIR": "/certs"}) == (None, "/certs")
    assert verify_from_env(True, True, {"SSL_CERT_FILE": "", "SSL_CERT_DIR": ""}) is True
    assert verify_from_env(True, True, {}) is True
    assert verify_from_env(True, False, env) is True  # trust_env=False
    context = ssl.create_default_context()
    for explicit in (False, "/mine.pem", pathlib.Path("/mine.pem"), "system", context):
        assert verify_from_env(explicit, True, env) is explicit  # an explicit verify= wins


def test_verify_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/from/env.pem")
    assert verify_from_env(True, True) == CALocations("/from/env.pem", None)


def test_each_configuration_has_its_own_pool_key(ca_path: str) -> None:
    keys = {
        _tls.tls_key(True),
        _tls.tls_key(False),
        _tls.tls_key(ca_path),
        _tls.tls_key("system"),
        _tls.tls_key(CALocations(ca_path, None)),
        _tls.tls_key(CALocations(None, ca_path)),
        _tls.tls_key(CALocations(ca_path, ca_path)),
    }
    assert len(keys) == 7


# -- SSL_CERT_FILE and SSL_CERT_DIR ------------------------------------------------------


async def test_ssl_cert_file_is_trusted(
    tls_server: MakeTLS, ca_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await tls_server()
    with pytest.raises(rawhttp.TLSError) as info:  # certifi's CAs do not know the test CA
        await fetch(server.url())
    assert info.value.reason == "certificate"
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    assert await fetch(server.url()) == b"ok"
    # The file replaces certifi's bundle: it holds the one test CA.
    assert len(_tls.context_for(CALocations(ca_path, None)).get_ca_certs()) == 1


async def test_ssl_cert_dir_is_searched(
    tls_server: MakeTLS, hashed_dir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await tls_server()
    monkeypatch.setenv("SSL_CERT_DIR", hashed_dir)
    assert await fetch(server.url()) == b"ok"
    # A directory adds to certifi's bundle, as OpenSSL's directory adds to its file.
    assert len(_tls.context_for(CALocations(None, hashed_dir)).get_ca_certs()) > 10


async def test_ssl_cert_file_and_dir_together(
    tls_server: MakeTLS, hashed_dir: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    server = await tls_server()
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))  # does not know the server's CA
    with pytest.raises(rawhttp.TLSError) as info:
        await fetch(server.url())
    assert info.value.reason == "certificate"
    monkeypatch.setenv("SSL_CERT_DIR", hashed_dir)  # does
    assert await fetch(server.url()) == b"ok"


async def test_trust_env_false_ignores_the_variables(
    tls_server: MakeTLS, ca_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await tls_server()
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    with pytest.raises(rawhttp.TLSError) as info:
        await fetch(server.url(), trust_env=False)
    assert info.value.reason == "certificate"


async def test_an_explicit_verify_wins(
    tls_server: MakeTLS,
    ca_path: str,
    client_ssl: ssl.SSLContext,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await tls_server()
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "missing"))
    assert await fetch(server.url(), verify=ca_path) == b"ok"
    assert await fetch(server.url(), verify=pathlib.Path(ca_path)) == b"ok"
    assert await fetch(server.url(), verify=client_ssl) == b"ok"
    assert await fetch(server.url(), verify=False) == b"ok"


async def test_the_environment_is_read_when_the_session_is_made(
    tls_server: MakeTLS, ca_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await tls_server()
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    async with rawhttp.Session(timeout=QUICK) as s:
        monkeypatch.delenv("SSL_CERT_FILE")
        assert (await s.get(server.url())).content == b"ok"
    with pytest.raises(rawhttp.TLSError):
        await fetch(server.url())


async def test_sessions_share_one_context_per_environment(
    tls_server: MakeTLS, ca_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = await tls_server()
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    assert await fetch(server.url()) == b"ok"
    before = _tls._context.cache_info()
    for _ in range(20):
        assert await fetch(server.url()) == b"ok"
    after = _tls._context.cache_info()
    assert after.misses == before.misses  # loaded once, not per Session or connection
    assert after.hits >= before.hits + 20
    resolved = verify_from_env(True, True)
    assert _tls.context_for(resolved) is _tls.context_for(resolved)


async def test_a_client_certificate_with_the_environment_ca(
    tls_server: MakeTLS,
    ca: trustme.CA,
    ca_path: str,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    issued = ca.issue_cert("client.example")
    pem = tmp_path / "client.pem"
    pem.write_bytes(
        issued.private_key_pem.bytes() + b"".join(b.bytes() for b in issued.cert_chain_pems)
    )
    server = await tls_server(require_client_cert=True)
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    assert await fetch(server.url(), cert=str(pem)) == b"ok"


# -- variables naming what cannot be loaded ------------------------------------------------


async def test_a_missing_ssl_cert_file_fails_at_the_first_https_request(
    raw_server: MakeServer, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = await raw_server(always(OK))
    missing = str(tmp_path / "missing.pem")
    monkeypatch.setenv("SSL_CERT_FILE", missing)
    async with rawhttp.Session(timeout=QUICK) as s:  # no error yet
        assert (await s.get(plain.url())).content == b"ok"  # plain http is not concerned
        for _ in range(2):  # not cached: each attempt says so again
            with pytest.raises(rawhttp.TLSError) as info:
                await s.get(f"https://127.0.0.1:{plain.port}/")
            assert info.value.reason == "ca_bundle"
            assert "SSL_CERT_FILE" in str(info.value)
            assert missing in str(info.value)
        assert_clean(s)
        assert s.pool.connections == 1  # the plain one
    assert plain.connections == 1  # no connection was opened for https


@pytest.mark.parametrize("what", ["not a directory", "missing directory"])
async def test_an_unusable_ssl_cert_dir_is_a_ca_bundle_error(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    path = tmp_path / "certs"
    if what == "not a directory":
        path.write_text("a file\n")
    monkeypatch.setenv("SSL_CERT_DIR", str(path))
    with pytest.raises(rawhttp.TLSError, match="SSL_CERT_DIR") as info:
        await fetch("https://127.0.0.1:9/")
    assert info.value.reason == "ca_bundle"


async def test_an_invalid_ssl_cert_file_is_a_ca_bundle_error(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    monkeypatch.setenv("SSL_CERT_FILE", str(bad))
    with pytest.raises(rawhttp.TLSError, match="SSL_CERT_FILE") as info:
        await fetch("https://127.0.0.1:9/")
    assert info.value.reason == "ca_bundle"


# -- verify="system" -----------------------------------------------------------------------------


@pytest.fixture
def fresh_system_context() -> Iterator[None]:
    _tls._system_context.cache_clear()
    yield
    _tls._system_context.cache_clear()


def test_system_context_uses_truststore(fresh_system_context: None) -> None:
    import truststore

    ctx = _tls.context_for("system")
    assert isinstance(ctx, truststore.SSLContext)
    assert ctx is _tls.context_for("system")  # built once
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.check_hostname
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2


@pytest.mark.skipif(
    sys.platform != "linux", reason="on Linux truststore reads OpenSSL's CA locations"
)
async def test_verify_system_verifies_with_the_system_store(
    tls_server: MakeTLS, ca_path: str, monkeypatch: pytest.MonkeyPatch, fresh_system_context: None
) -> None:
    # On Linux the system store is OpenSSL's default CA locations, which truststore
    # reads at each handshake and SSL_CERT_FILE moves: that makes the test CA a
    # "system" CA here (with trust_env=False, so rawhttp itself ignores the variable).
    server = await tls_server()
    with pytest.raises(rawhttp.TLSError) as info:
        await fetch(server.url(), verify="system", trust_env=False)
    assert info.value.reason == "certificate"
    monkeypatch.setenv("SSL_CERT_FILE", ca_path)
    assert await fetch(server.url(), verify="system", trust_env=False) == b"ok"


async def test_verify_system_without_truststore_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, fresh_system_context: None
) -> None:
    monkeypatch.setitem(sys.modules, "truststore", None)  # import truststore fails
    with pytest.raises(rawhttp.TLSError, match=r"rawhttp\[truststore\]") as info:
        _tls.context_for("system")
    assert info.value.reason == "ca_bundle"
    with pytest.raises(rawhttp.TLSError, match=r"rawhttp\[truststore\]"):
        await fetch("https://127.0.0.1:9/", verify="system")


def test_verify_system_with_a_client_certificate(
    ca: trustme.CA, tmp_path: pathlib.Path, fresh_system_context: None
) -> None:
    issued = ca.issue_cert("client.example")
    pem = tmp_path / "client.pem"
    pem.write_bytes(
        issued.private_key_pem.bytes() + b"".join(b.bytes() for b in issued.cert_chain_pems)
    )
    with_cert = _tls.context_for("system", str(pem))
    assert with_cert is _tls.context_for("system", str(pem))
    assert with_cert is not _tls.context_for("system")
    with pytest.raises(rawhttp.TLSError, match="client certificate") as info:
        _tls.context_for("system", str(tmp_path / "missing.pem"))
    assert info.value.reason == "ca_bundle"


def test_only_the_string_system_means_the_system_store(tmp_path: pathlib.Path) -> None:
    # A path object named "system" is a CA bundle file, like any other path.
    with pytest.raises(rawhttp.TLSError, match="cannot load CA bundle 'system'"):
        _tls.context_for(pathlib.Path("system"))
    assert _tls.tls_key("system") != _tls.tls_key(pathlib.Path("system"))
