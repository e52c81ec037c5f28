"""The blocking API: module functions and SyncSession over a threaded loopback server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

import rawhttp


class ThreadedServer:
    """A keep-alive server in a thread: answers every request with ``body``, counts connections."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.connections = 0
        self.requests: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            buf = b""
            while not self.stop.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while b"\r\n\r\n" in buf:
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    self.requests.append(head)
                    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(self.body)
                    conn.sendall(reply + self.body)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def server() -> Iterator[ThreadedServer]:
    srv = ThreadedServer(b"0123456789" * 20_000)
    yield srv
    srv.close()


def test_module_functions_block_and_return_the_body(server: ThreadedServer) -> None:
    r = rawhttp.get(server.url("/a"))
    assert r.status == 200
    assert r.content == server.body
    r = rawhttp.post(server.url("/b"), content=b"xyz")
    assert r.status == 200
    assert server.requests[-1].startswith(b"POST /b HTTP/1.1\r\n")
    assert b"Content-Length: 3" in server.requests[-1]
    assert server.connections == 2  # one-shot: a connection per call


def test_sync_session_keeps_its_pool_between_calls(server: ThreadedServer) -> None:
    with rawhttp.SyncSession(timeout=5.0) as s:
        for _ in range(5):
            assert s.get(server.url()).content == server.body
        assert "connections=1/100 idle=1" in repr(s._session)
    assert server.connections == 1
    assert s._session.is_closed


def test_sync_stream_iterates_bounded_chunks(server: ThreadedServer) -> None:
    with rawhttp.SyncSession() as s:
        with s.stream("GET", server.url()) as r:
            assert r.status == 200
            chunks = list(r.iter_bytes(chunk_size=4096))
        assert max(len(c) for c in chunks) <= 4096
        assert b"".join(chunks) == server.body
        with s.stream("GET", server.url()) as r:
            assert r.read() == server.body


def test_closed_sync_session_raises() -> None:
    s = rawhttp.SyncSession()
    s.close()
    with pytest.raises(rawhttp.Error, match="closed"):
        s.get("http://127.0.0.1:9/")


def test_errors_are_rawhttp_errors_in_the_blocking_api() -> None:
    with pytest.raises(rawhttp.InvalidURL):
        rawhttp.get("ftp://127.0.0.1/")
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(rawhttp.ConnectError):
        rawhttp.get(f"http://127.0.0.1:{port}/")


async def test_blocking_api_inside_a_running_loop_says_to_use_session() -> None:
    with pytest.raises(rawhttp.EventLoopRunning, match=r"rawhttp\.Session"):
        rawhttp.get("http://127.0.0.1:9/")
    with pytest.raises(rawhttp.EventLoopRunning):
        rawhttp.SyncSession()
