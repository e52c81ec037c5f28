"""No password or token in an error message: every path that can show a URL or a
header value, from the pure parsers through the Session, the blocking API and the
command.  A URL's userinfo is shown as ``***``; a credential header's value never."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import pytest
from conftest import RawConnection, RawServer, read_message
from servers import run_cli

import rawhttp
from rawhttp._proxy import parse_proxy
from rawhttp._serialize import encode_field, encode_fields
from rawhttp._url import parse_url

MakeServer = Callable[..., Awaitable[RawServer]]
SECRET = "S3CRETpw"
QUICK = rawhttp.Timeout(5.0)

BAD_URLS = [
    f"http://user:{SECRET}@127.0.0.1:99999/",
    f"http://user:{SECRET}@127.0.0.1:x/",
    f"http://user:{SECRET}@[::1/",
    f"http://user:{SECRET}@[::g]/",
    f"http://user:{SECRET}@[::1]x/",
    f"http://user:{SECRET}@/",
    f"http://user:{SECRET}@exa mple.com/",
    f"http://user:{SECRET}@\u00ff\u2603..com/",
    f"http://user:{SECRET}@::1/",
    f"ftp://user:{SECRET}@example.com/",
    f"user:{SECRET}@example.com/",
    f"//user:{SECRET}@example.com/",
    f"http://user:{SECRET}@example.com/\x00",
    f"http://user:{SECRET}@example.com/ \n",
    f"http://user:{SECRET}%ff@example.com/",
    f"http://{SECRET}@example.com:99999/",
    f"https://user:{SECRET}@[fe80::1%25eth0]/",
]


def chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it was raised from or during."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        yield current
        current = current.__cause__ or current.__context__


def assert_no_secret(exc: BaseException, secret: str = SECRET) -> None:
    for e in chain(exc):
        assert secret not in str(e), (type(e).__name__, str(e))
        assert secret not in repr(e), repr(e)
        assert all(secret not in str(arg) for arg in e.args)


@pytest.mark.parametrize("url", BAD_URLS)
def test_url_errors_hide_the_userinfo(url: str) -> None:
    with pytest.raises(rawhttp.InvalidURL) as info:
        parse_url(url)
    assert_no_secret(info.value)
    assert "***" in str(info.value)


@pytest.mark.parametrize("url", BAD_URLS)
async def test_session_url_errors_hide_the_userinfo(url: str) -> None:
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.InvalidURL) as info:
            await s.get(url)
    assert_no_secret(info.value)


@pytest.mark.parametrize("url", BAD_URLS[:4])
def test_blocking_url_errors_hide_the_userinfo(url: str) -> None:
    with pytest.raises(rawhttp.InvalidURL) as info:
        rawhttp.get(url)
    assert_no_secret(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://u:p@h/", "http://***@h/"),
        ("http://u@h:1/x@y", "http://***@h:1/x@y"),  # an @ in the path is not userinfo
        ("http://h/a@b", "http://h/a@b"),
        ("http://a@b@h/?q@r#f@g", "http://***@h/?q@r#f@g"),
        ("mailto:someone@example.org", "mailto:***@example.org"),
        ("u:p@h", "u:***@h"),
        ("no userinfo", "no userinfo"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    from rawhttp._url import redact

    assert redact(url) == shown


CREDENTIAL_NAMES = ["Authorization", "proxy-authorization", "Cookie", "X-Api-Key", "X-Auth-Token"]
BAD_VALUES: list[str | bytes] = [
    f"Bearer {SECRET}\r\nX-Injected: 1",
    f"Bearer {SECRET}\x00",
    f"Bearer {SECRET}\u20ac",  # not latin-1
    f"Bearer {SECRET}".encode() + b"\n",
    f"Bearer {SECRET}\x7f",
]


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
@pytest.mark.parametrize("value", BAD_VALUES)
def test_credential_header_values_never_in_messages(name: str, value: str | bytes) -> None:
    with pytest.raises(rawhttp.InvalidRequest) as info:
        encode_field(name, value)
    assert_no_secret(info.value)
    assert name in str(info.value)  # the message still says which header


def test_other_header_values_are_still_shown() -> None:
    with pytest.raises(rawhttp.InvalidRequest) as info:
        encode_field("X-Trace", "abc\ndef")
    assert "abc\\ndef" in str(info.value)


@pytest.mark.parametrize(
    "headers",
    [
        [("Authorization", f"Bearer {SECRET}", "extra")],
        [("Authorization",)],
        [f"Authorization: Bearer {SECRET}"],
        [[f"Bearer {SECRET}", 1, 2]],
    ],
)
def test_malformed_header_pairs_are_not_echoed(headers: list[object]) -> None:
    with pytest.raises(rawhttp.InvalidRequest) as info:
        encode_fields(headers)  # type: ignore[arg-type]
    assert_no_secret(info.value)


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
async def test_session_and_request_headers_hide_credentials(name: str) -> None:
    bad = {name: f"Bearer {SECRET}\n"}
    with pytest.raises(rawhttp.InvalidRequest) as info:
        rawhttp.Session(headers=bad)
    assert_no_secret(info.value)
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.InvalidRequest) as info:
            await s.get("http://127.0.0.1:9/", headers=bad)
    assert_no_secret(info.value)


@pytest.mark.parametrize(
    "proxy",
    [
        f"http://user:{SECRET}@127.0.0.1:99999",
        f"socks5://user:{SECRET}@127.0.0.1:1080",
        f"http://user:{SECRET}@127.0.0.1:3128/path",
        f"http://user:{SECRET}@[::1",
        f"http://us%3Aer:{SECRET}@127.0.0.1:3128",
    ],
)
def test_proxy_errors_hide_the_userinfo(proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(rawhttp.InvalidURL) as info:
        parse_proxy(proxy)
    assert_no_secret(info.value)
    with pytest.raises(rawhttp.InvalidURL) as info:
        rawhttp.Session(proxy=proxy)
    assert_no_secret(info.value)
    monkeypatch.setenv("http_proxy", proxy)
    with pytest.raises(rawhttp.InvalidURL) as info:
        rawhttp.Session()
    assert_no_secret(info.value)


def redirecting(location: bytes) -> Callable[[RawConnection], Awaitable[None]]:
    async def handler(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await conn.send(
                b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n"
            )

    return handler


@pytest.mark.parametrize(
    "location",
    [
        f"http://user:{SECRET}@127.0.0.1:99999/".encode(),
        f"ftp://user:{SECRET}@127.0.0.1/".encode(),
        f"http://user:{SECRET}@[::1/".encode(),
    ],
)
async def test_redirect_errors_hide_the_userinfo(raw_server: MakeServer, location: bytes) -> None:
    server = await raw_server(redirecting(location))
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
        with pytest.raises(rawhttp.InvalidURL) as info:
            await s.get(server.url())
    assert_no_secret(info.value)


async def test_too_many_redirects_hides_the_userinfo(raw_server: MakeServer) -> None:
    server = await raw_server(redirecting(b""))  # the port is known once it listens
    server.handler = redirecting(f"http://user:{SECRET}@127.0.0.1:{server.port}/again".encode())
    async with rawhttp.Session(timeout=QUICK, follow_redirects=True, max_redirects=2) as s:
        with pytest.raises(rawhttp.TooManyRedirects) as info:
            await s.get(server.url())
    assert_no_secret(info.value)


async def test_status_error_hides_the_userinfo(raw_server: MakeServer) -> None:
    async def handler(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await conn.send(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    server = await raw_server(handler)
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.get(f"http://user:{SECRET}@127.0.0.1:{server.port}/")
        with pytest.raises(rawhttp.HTTPStatusError) as info:
            r.raise_for_status()
    assert_no_secret(info.value)
    assert SECRET not in r.url
    assert SECRET not in repr(r)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ((f"http://user:{SECRET}@127.0.0.1:99999/",), 3),
        ((f"ftp://user:{SECRET}@127.0.0.1/",), 1),
        (("-x", f"http://user:{SECRET}@127.0.0.1:99999", "http://127.0.0.1:9/"), 5),
        (("-H", f"Authorization: Bearer {SECRET}\x01", "http://127.0.0.1:9/"), 2),
        (("-H", f"Authorization Bearer {SECRET}", "http://127.0.0.1:9/"), 2),
        (("-w", "%{errormsg}", f"http://user:{SECRET}@[::1/"), 3),
    ],
)
async def test_command_messages_hide_secrets(args: tuple[str, ...], code: int) -> None:
    status, out, err = await run_cli(*args)
    output = out + err
    assert status == code, output
    assert SECRET.encode() not in output
    assert b"Traceback" not in output


async def test_command_redirect_errors_hide_secrets(raw_server: MakeServer) -> None:
    server = await raw_server(redirecting(f"http://u:{SECRET}@127.0.0.1:99999/".encode()))
    status, out, err = await run_cli("-L", "-w", "%{errormsg}", server.url())
    output = out + err
    assert status == 3, output
    assert SECRET.encode() not in output
