"""Recorder writes the exchange; replay parses the recorded response again, offline."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from conftest import replay as serve

import rawhttp

BODY = gzip.compress(b"recorded " * 500)
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
    b"X-Odd: caf\xe9\r\n\r\n" + b"%x\r\n" % len(BODY) + BODY + b"\r\n0\r\nX-Sum: 9\r\n\r\n"
)


async def test_replay_returns_an_equal_response(raw_server, tmp_path: Path) -> None:
    server = await raw_server(serve(RESPONSE))
    path = tmp_path / "exchange.rawhttp"
    with rawhttp.Recorder(path) as recorder:
        async with rawhttp.Session(trace=recorder) as s:
            live = await s.get(server.url("/report?id=1"))
    again = rawhttp.replay(path)  # called from async code: parsed on a private loop
    assert (again.status, again.reason, again.http_version) == (200, "OK", "HTTP/1.1")
    assert again.headers.items() == live.headers.items()
    assert again.headers["x-odd"].encode("latin-1") == b"caf\xe9"
    assert again.content == live.content == b"recorded " * 500
    assert again.trailers.items() == [("X-Sum", "9")]
    assert again.method == "GET"
    assert again.url == "/report?id=1"
    raw = rawhttp.replay(path, decode=False)
    assert raw.content == BODY
    events = path.read_bytes()
    assert events.startswith(b"rawhttp-trace 1\n")
    assert b"\nreceive " in events
    assert b"\nHTTP/1.1 200 OK\r\n\n" in events  # one event per received line


def test_replay_works_without_a_running_loop(tmp_path: Path) -> None:
    path = tmp_path / "hand.rawhttp"
    response = b"HTTP/1.0 404 Not Found\r\nContent-Length: 4\r\n\r\nnope"
    request = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
    path.write_bytes(
        b"rawhttp-trace 1\n"
        + b"send 1 0.5 %d\n%s\n" % (len(request), request)
        + b"receive 1 0.6 %d\n%s\n" % (len(response), response)
    )
    r = rawhttp.replay(path)
    assert (r.status, r.http_version, r.content) == (404, "HTTP/1.0", b"nope")


def test_replayed_head_request_has_no_body(tmp_path: Path) -> None:
    path = tmp_path / "head.rawhttp"
    request = b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n"
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    path.write_bytes(
        b"rawhttp-trace 1\n"
        + b"send 1 0 %d\n%s\n" % (len(request), request)
        + b"receive 1 0 %d\n%s\n" % (len(response), response)
    )
    assert rawhttp.replay(path).content == b""


def test_replay_of_a_truncated_body_raises_like_live(tmp_path: Path) -> None:
    path = tmp_path / "short.rawhttp"
    request = b"GET / HTTP/1.1\r\n\r\n"
    response = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"
    path.write_bytes(
        b"rawhttp-trace 1\n"
        + b"send 1 0 %d\n%s\n" % (len(request), request)
        + b"receive 1 0 %d\n%s\n" % (len(response), response)
    )
    with pytest.raises(rawhttp.ProtocolError, match="3 of 10"):
        rawhttp.replay(path)


@pytest.mark.parametrize(
    "content",
    [b"not a recording", b"rawhttp-trace 1\nsend x\n", b"rawhttp-trace 1\nsend 1 0 99\nshort\n"],
)
def test_malformed_recordings_raise_rawhttp_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.rawhttp"
    path.write_bytes(content)
    with pytest.raises(rawhttp.Error):
        rawhttp.replay(path)


def test_closed_recorder_refuses_events(tmp_path: Path) -> None:
    recorder = rawhttp.Recorder(tmp_path / "r.rawhttp")
    recorder.close()
    with pytest.raises(rawhttp.Error, match="closed"):
        recorder(rawhttp.TraceEvent("send", b"x", 0.0, 1))
