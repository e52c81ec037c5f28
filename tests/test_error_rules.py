"""Every refusal names its rule as data: ``ProtocolError.rule`` for a response that
breaks HTTP/1.1, ``InvalidURL.reason`` for a URL.  Pure parsing is checked with plain
bytes; what only a stream shows (a connection closed inside the head, chunk endings,
trailers, limits) with a raw loopback server replaying exact bytes, each arriving
at once (the buffered path) and in pieces (the stream path)."""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, replay

import rawhttp
from rawhttp._headers import Headers
from rawhttp._parse import (
    add_field_line,
    body_framing,
    parse_chunk_size,
    parse_content_length,
    parse_status_line,
)
from rawhttp._url import parse_url

MakeServer = Callable[..., Awaitable[RawServer]]

# -- the exceptions' data ---------------------------------------------------------------


def test_defaults_keep_the_constructors_compatible() -> None:
    assert rawhttp.ProtocolError("odd").rule == "protocol"
    assert str(rawhttp.ProtocolError("odd", rule="chunk-size")) == "odd"
    assert rawhttp.NoResponse("closed").rule == "no-response"
    incomplete = rawhttp.IncompleteBody("cut", received=1, expected=2)
    assert (incomplete.rule, incomplete.received, incomplete.expected) == ("body-incomplete", 1, 2)
    url = rawhttp.InvalidURL("bad")
    assert (url.reason, url.scheme) == ("syntax", None)
    assert isinstance(url, ValueError)


def test_every_rule_is_documented() -> None:
    """The docstrings are the tables users read: each name the code can give is there."""
    from rawhttp._exceptions import ProtocolRule, URLReason

    rules = typing.get_args(ProtocolRule)
    assert len(rules) >= 15
    for rule in rules:
        assert f'``"{rule}"``' in (rawhttp.ProtocolError.__doc__ or ""), rule
    for reason in typing.get_args(URLReason):
        assert f'``"{reason}"``' in (rawhttp.InvalidURL.__doc__ or ""), reason


# -- pure parsing: plain bytes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        (b"ICY 200 OK\r\n", "status-line"),
        (b"HELLO THERE\r\n", "status-line"),
        (b"http/1.1 200 OK\r\n", "status-line"),
        (b"HTTP/2.0 200 OK\r\n", "http-version"),
        (b"HTTP/2 200\r\n", "http-version"),
        (b"HTTP/3.0 200 OK\r\n", "http-version"),
        (b"HTTP/0.9 200 OK\r\n", "http-version"),
        (b"HTTP/1.1 20 OK\r\n", "status-code"),
        (b"HTTP/1.1 20x OK\r\n", "status-code"),
        (b"HTTP/1.1 2000 OK\r\n", "status-code"),
        (b"HTTP/1.1  200 OK\r\n", "status-code"),
        (b"HTTP/1.1 600 x\r\n", "status-code"),
        (b"HTTP/1.1 099 x\r\n", "status-code"),
        (b"HTTP/1.1 200 O\rK\r\n", "reason-phrase"),
        (b"HTTP/1.1 200 O\x00K\r\n", "reason-phrase"),
    ],
)
def test_status_line_rules(line: bytes, rule: str) -> None:
    with pytest.raises(rawhttp.ProtocolError) as caught:
        parse_status_line(line)
    assert caught.value.rule == rule
    assert caught.type is rawhttp.ProtocolError


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        (b"NoColon\r\n", "header-line"),
        (b"X A: b\r\n", "header-line"),
        (b": empty name\r\n", "header-line"),
        (b"X-A: b", "header-line"),  # no line ending
        (b"X-A: a\x00b\r\n", "header-value"),
        (b"X-A: a\rb\r\n", "header-value"),
        (b" X-A: b\r\n", "obs-fold"),
    ],
)
def test_field_line_rules(line: bytes, rule: str) -> None:
    with pytest.raises(rawhttp.ProtocolError) as caught:
        add_field_line([], line)
    assert caught.value.rule == rule


@pytest.mark.parametrize("values", [["abc"], ["-1"], ["5", "6"], ["5, 6"], [""], ["1" * 19]])
def test_content_length_rule(values: list[str]) -> None:
    with pytest.raises(rawhttp.ProtocolError) as caught:
        parse_content_length(values)
    assert caught.value.rule == "content-length"


def framing_rule(version: str, *fields: tuple[str, str]) -> str:
    with pytest.raises(rawhttp.ProtocolError) as caught:
        body_framing("GET", 200, version, Headers(list(fields)))
    return caught.value.rule


def test_framing_and_transfer_coding_rules() -> None:
    te = ("Transfer-Encoding", "chunked")
    assert framing_rule("HTTP/1.1", te, ("Content-Length", "5")) == "framing"
    assert framing_rule("HTTP/1.0", te) == "framing"
    for codings in ("gzip", "chunked, gzip", "gzip, chunked", "chunked, chunked", "identity"):
        assert framing_rule("HTTP/1.1", ("Transfer-Encoding", codings)) == "transfer-coding"
    assert framing_rule("HTTP/1.1", ("Content-Length", "x")) == "content-length"


@pytest.mark.parametrize(
    "line", [b"zz\r\n", b"-1\r\n", b"\r\n", b"f" * 17 + b"\r\n", b'5;a="\r\n', b"5 x\r\n"]
)
def test_chunk_size_rule(line: bytes) -> None:
    with pytest.raises(rawhttp.ProtocolError) as caught:
        parse_chunk_size(line)
    assert caught.value.rule == "chunk-size"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/", "scheme"),
        ("FOO://127.0.0.1/", "scheme"),
        ("http://[::1/", "host"),
        ("http://[::g]/", "host"),
        ("http://[fe80::1%25eth0]/", "host"),
        ("http://::1/", "host"),
        ("http:///path", "host"),
        ("http://exa mple.com/", "host"),
        ("http://127.0.0.1:99999/", "port"),
        ("http://127.0.0.1:0/", "port"),
        ("http://127.0.0.1:x/", "port"),
        ("http://127.0.0.1/\x00", "syntax"),
        ("no-scheme", "syntax"),
        ("http://[::1]x/", "syntax"),
        ("http://%ff:pw@127.0.0.1/", "syntax"),
    ],
)
def test_url_reasons(url: str, reason: str) -> None:
    with pytest.raises(rawhttp.InvalidURL) as caught:
        parse_url(url)
    assert caught.value.reason == reason
    assert caught.value.scheme == (url.partition(":")[0].lower() if reason == "scheme" else None)


def test_a_url_that_is_not_a_str() -> None:
    with pytest.raises(rawhttp.InvalidURL) as caught:
        parse_url(b"http://127.0.0.1/")
    assert caught.value.reason == "syntax"


# -- on a stream: a raw server replaying the bytes --------------------------------------


def pieces(*parts: bytes, pause: float = 0.02) -> Callable[[RawConnection], Awaitable[None]]:
    """Answer one request with ``parts``, each sent after a pause (so each arrives in its
    own read: the stream path), then close."""

    async def handler(conn: RawConnection) -> None:
        if not await conn.read_request():
            return
        for part in parts:
            await conn.send(part)
            await asyncio.sleep(pause)

    return handler


async def rule_of(server: RawServer, **session: object) -> str:
    async with rawhttp.Session(retries=0, **session) as client:  # type: ignore[arg-type]
        with pytest.raises(rawhttp.ProtocolError) as caught:
            await asyncio.wait_for(client.get(server.url()), 10)
    return caught.value.rule


CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

STREAM_CASES = [
    ("no-response", [b""]),
    ("status-line-incomplete", [b"HTTP/1.1 2"]),
    ("status-line-incomplete", [b"HTTP/1.1 200 OK"]),
    ("head-incomplete", [b"HTTP/1.1 200 OK\r\n"]),
    ("head-incomplete", [b"HTTP/1.1 200 OK\r\nContent-Len"]),
    ("head-incomplete", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"]),
    ("status-line", [b"ICY 200 OK\r\nContent-Length: 2\r\n\r\nok"]),
    ("http-version", [b"HTTP/2 200\r\nContent-Length: 2\r\n\r\nok"]),
    ("status-code", [b"HTTP/1.1 600 x\r\nContent-Length: 2\r\n\r\nok"]),
    ("header-line", [b"HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 2\r\n\r\nok"]),
    ("header-value", [b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok"]),
    ("obs-fold", [b"HTTP/1.1 200 OK\r\n X-A: b\r\nContent-Length: 2\r\n\r\nok"]),
    ("upgrade", [b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"]),
    ("content-length", [b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nhello"]),
    ("framing", [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"]),
    ("transfer-coding", [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"]),
    ("chunk-size", [CHUNKED, b"zz\r\nhello\r\n0\r\n\r\n"]),
    ("chunk-size", [CHUNKED, b"5\r\nhello\r\n", b"-1\r\n"]),
    ("chunk-data", [CHUNKED, b"5\r\nhelloXX0\r\n\r\n"]),
    ("chunk-data", [CHUNKED, b"5\r\n", b"hello", b"XX\r\n0\r\n\r\n"]),
    ("trailer", [CHUNKED, b"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n"]),
    ("trailer", [CHUNKED, b"5\r\nhello\r\n0\r\n", b"X-T: a\x00b\r\n\r\n"]),
    ("trailer", [CHUNKED, b"5\r\nhello\r\n0\r\n", b" folded\r\n\r\n"]),
    ("body-incomplete", [b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello"]),
    ("body-incomplete", [CHUNKED, b"5\r\nhello\r\na\r\nwor"]),
    ("body-incomplete", [CHUNKED, b"5\r\nhello\r\n", b"5"]),
    ("body-incomplete", [CHUNKED, b"5\r\nhello\r\n0\r\n", b"X-T: a\r\n"]),
    ("limit", [b"HTTP/1.1 200 " + b"x" * 9000 + b"\r\n\r\n"]),
    ("limit", [b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 70_000 + b"\r\n\r\n"]),
    ("limit", [b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 501 + b"\r\n"]),
    ("limit", [b"HTTP/1.1 100 Continue\r\n\r\n" * 11 + b"HTTP/1.1 200 OK\r\n\r\n"]),
    ("limit", [CHUNKED, b"5;" + b"a" * 5000 + b"\r\nhello\r\n0\r\n\r\n"]),
    ("limit", [CHUNKED, b"5\r\nhello\r\n0\r\n", b"X-T: " + b"a" * 70_000 + b"\r\n\r\n"]),
]


@pytest.mark.parametrize(
    ("rule", "parts"), STREAM_CASES, ids=[f"{n}-{rule}" for n, (rule, _) in enumerate(STREAM_CASES)]
)
async def test_stream_rules(raw_server: MakeServer, rule: str, parts: list[bytes]) -> None:
    # all bytes at once (the buffered path), then in pieces (the stream path)
    server = await raw_server(replay(b"".join(parts), close=True))
    assert await rule_of(server) == rule
    server = await raw_server(pieces(*parts))
    assert await rule_of(server) == rule


async def test_a_cut_trailer_section_is_an_incomplete_body(raw_server: MakeServer) -> None:
    server = await raw_server(pieces(CHUNKED, b"5\r\nhello\r\n0\r\n", b"X-T: a\r\n"))
    async with rawhttp.Session(retries=0) as client:
        with pytest.raises(rawhttp.IncompleteBody) as caught:
            await asyncio.wait_for(client.get(server.url()), 10)
    assert (caught.value.received, caught.value.expected) == (5, None)
