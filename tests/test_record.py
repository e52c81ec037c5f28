"""Recorder writes the exchange; replay parses the recorded response again, offline."""

from __future__ import annotations

import gzip
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import replay as serve

import rawhttp
from rawhttp._record import read_events

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
    [
        b"not a recording",
        b"rawhttp-trace 1\nsend x\n",
        b"rawhttp-trace 1\nsend 1 0 -1\n\n",
        b"rawhttp-trace 1\nsend 1 0 2\nabc\nreceive 1 0 1\nx\n",  # 3 bytes, not 2
    ],
)
def test_malformed_recordings_raise_rawhttp_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.rawhttp"
    path.write_bytes(content)
    with pytest.raises(rawhttp.Error):
        rawhttp.replay(path)


def test_a_recording_cut_before_any_response_warns_then_raises(tmp_path: Path) -> None:
    from rawhttp._record import TruncatedRecording

    path = tmp_path / "cut.rawhttp"
    path.write_bytes(b"rawhttp-trace 1\nsend 1 0 99\nshort\n")
    with (
        pytest.warns(TruncatedRecording, match="only 6 of its 99 data bytes"),
        pytest.raises(rawhttp.Error, match="no received bytes"),
    ):
        rawhttp.replay(path)


def test_closed_recorder_refuses_events(tmp_path: Path) -> None:
    recorder = rawhttp.Recorder(tmp_path / "r.rawhttp")
    recorder.close()
    with pytest.raises(rawhttp.Error, match="closed"):
        recorder(rawhttp.TraceEvent("send", b"x", 0.0, 1))


# -- every event on disk as it happens ---------------------------------------------


REQUEST = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"


def hand_recording(*events: tuple[str, bytes]) -> bytes:
    return b"rawhttp-trace 1\n" + b"".join(
        b"%s 1 0.5 %d\n%s\n" % (kind.encode(), len(data), data) for kind, data in events
    )


async def test_the_recording_is_readable_while_the_session_is_open(
    raw_server, tmp_path: Path
) -> None:
    server = await raw_server(serve(RESPONSE))
    path = tmp_path / "open.rawhttp"
    recorder = rawhttp.Recorder(path)
    try:
        async with rawhttp.Session(trace=recorder) as s:
            live = await s.get(server.url("/still-open"))
            # Neither the session nor the recorder is closed: the file has it all.
            events = read_events(path)
            assert [e.kind for e in events][:2] == ["connect", "send"]
            assert b"".join(e.data for e in events if e.kind == "receive") == RESPONSE
            again = rawhttp.replay(path)
            assert again.content == live.content == b"recorded " * 500
            assert again.url == "/still-open"
    finally:
        recorder.close()


CHILD = """
import asyncio, os, signal, sys
import rawhttp

RESPONSE = b"HTTP/1.1 200 OK\\r\\nContent-Length: 11\\r\\n\\r\\nhello world"

async def handle(reader, writer):
    await reader.readuntil(b"\\r\\n\\r\\n")
    writer.write(RESPONSE)
    await writer.drain()
    await reader.read()  # keep the connection open

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    recorder = rawhttp.Recorder(sys.argv[1])
    session = rawhttp.Session(trace=recorder)
    r = await session.get(f"http://127.0.0.1:{port}/before-the-crash")
    assert r.content == b"hello world"
    os.kill(os.getpid(), signal.SIGKILL)  # no close, no flush, no atexit

asyncio.run(main())
"""


def test_the_recording_survives_the_process_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "crash.rawhttp"
    root = Path(__file__).resolve().parent.parent  # this checkout's rawhttp, not another
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=root,
        capture_output=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode(errors="replace")
    response = rawhttp.replay(path)
    assert (response.status, response.content) == (200, b"hello world")
    assert response.url == "/before-the-crash"


def test_a_last_event_cut_short_is_left_out_with_a_warning(tmp_path: Path) -> None:
    from rawhttp._record import TruncatedRecording

    whole = hand_recording(("send", REQUEST), ("receive", ANSWER), ("receive", b"x" * 100))
    for cut in (1, 50, 101, 102, len(b"receive 1 0.5 100\n") + 100):
        path = tmp_path / f"cut{cut}.rawhttp"
        path.write_bytes(whole[:-cut])
        with pytest.warns(TruncatedRecording, match="after 2 complete events"):
            events = read_events(path)
        assert [(e.kind, e.data) for e in events] == [("send", REQUEST), ("receive", ANSWER)]
        with pytest.warns(TruncatedRecording):
            assert rawhttp.replay(path).content == b"body"
    path = tmp_path / "whole.rawhttp"
    path.write_bytes(whole)
    assert len(read_events(path)) == 3  # no warning: warnings are errors in this suite


def test_one_recorder_serves_several_threads(tmp_path: Path) -> None:
    path = tmp_path / "threads.rawhttp"
    with rawhttp.Recorder(path) as recorder:

        def write(n: int) -> None:
            for i in range(200):
                recorder(rawhttp.TraceEvent("send", b"%d-%d;" % (n, i) * 50, 0.0, n))

        threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    events = read_events(path)
    assert len(events) == 800
    for e in events:  # none interleaved with another
        assert e.data == e.data[: len(e.data) // 50] * 50


def test_a_recording_that_cannot_be_written_raises_a_rawhttp_error() -> None:
    with pytest.raises(rawhttp.Error, match="cannot write to the recording '/dev/full'"):
        rawhttp.Recorder("/dev/full")  # every write: ENOSPC
