"""The blocking API: the one-shot functions and SyncSession with request bodies,
params, redirects, content decoding and streamed bodies (bytes, text, lines), over a
threaded loopback server.  Inside a running event loop: tests/test_sync_in_loop.py."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import rawhttp

DATA = b"".join(b"sync line %05d\n" % i for i in range(20_000))  # 320,000 bytes
GZ = gzip.compress(DATA)
BODY = b"0123456789" * 20_000
TEXT = "line 1: caf\u00e9\r\nline 2\r\n\r\nline 4 \u2603\nlast"
LINES = ["line 1: caf\u00e9", "line 2", "", "line 4 \u2603", "last"]
# The UTF-8 text in chunks cut inside characters and line endings: "caf" + half of
# "\u00e9", the other half + CR, LF + ..., sent one by one with a pause between.
TEXT_CHUNKS = [
    b"line 1: caf\xc3",
    b"\xa9\r",
    b"\nline 2\r",
    b"\n",
    b"\r\nline 4 \xe2\x98",
    b"\x83\nlast",
]
assert b"".join(TEXT_CHUNKS).decode() == TEXT


def reply(status: str, body: bytes = b"", headers: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body


class Request:
    def __init__(self, head: bytes, body: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        self.method, self.target, _ = lines[0].split(" ")
        self.headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                self.headers[name.lower()] = value.strip()
        self.body = body
        self.path = self.target.split("?", 1)[0]


Route = Callable[[Request], "bytes | list[bytes]"]  # a list: sent piece by piece


def echo(req: Request) -> bytes:
    doc = {
        "method": req.method,
        "target": req.target,
        "headers": req.headers,
        "body": req.body.decode("latin-1"),
    }
    return reply("200 OK", json.dumps(doc).encode(), "Content-Type: application/json\r\n")


def chunked(*pieces: bytes, headers: str = "") -> list[bytes]:
    """A chunked response: the head, then a frame per piece, then the last chunk."""
    head = f"HTTP/1.1 200 OK\r\n{headers}Transfer-Encoding: chunked\r\n\r\n".encode()
    return [head, *(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces), b"0\r\n\r\n"]


ROUTES: dict[str, Route] = {
    "/body": lambda req: reply("200 OK", BODY),
    "/echo": echo,
    "/r1": lambda req: reply("302 Found", b"to echo", "Location: /echo?from=r1\r\n"),
    "/r2": lambda req: reply("301 Moved", b"", "Location: /r1\r\n"),
    "/see-other": lambda req: reply("303 See Other", b"", "Location: /echo\r\n"),
    "/temporary": lambda req: reply("307 Temporary Redirect", b"", "Location: /echo\r\n"),
    "/gzip": lambda req: reply("200 OK", GZ, "Content-Encoding: gzip\r\n"),
    "/gzip-chunked": lambda req: (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"".join(
            b"%x\r\n" % len(GZ[i : i + 10_000]) + GZ[i : i + 10_000] + b"\r\n"
            for i in range(0, len(GZ), 10_000)
        )
        + b"0\r\n\r\n"
    ),
    "/text": lambda req: chunked(
        *TEXT_CHUNKS, headers="Content-Type: text/plain; charset=utf-8\r\n"
    ),
    "/lines": lambda req: reply("200 OK", DATA, "Content-Type: text/plain\r\n"),
    "/long-line": lambda req: reply("200 OK", b"x" * 5000 + b"\n", "Content-Type: text/plain\r\n"),
}


class ThreadedRouter:
    """A keep-alive HTTP/1.1 server in threads that answers by path from ROUTES;
    request bodies are read by Content-Length or chunked framing."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[Request] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            t = threading.Thread(target=self.handle, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buf = bytearray()

        def fill() -> bool:
            try:
                data = conn.recv(65536)
            except OSError:
                return False
            buf.extend(data)
            return bool(data)

        def take_until(sep: bytes) -> bytes | None:
            while sep not in buf:
                if not fill():
                    return None
            i = buf.index(sep) + len(sep)
            out = bytes(buf[:i])
            del buf[:i]
            return out

        def take(n: int) -> bytes | None:
            while len(buf) < n:
                if not fill():
                    return None
            out = bytes(buf[:n])
            del buf[:n]
            return out

        with conn:
            while not self.stop.is_set():
                head = take_until(b"\r\n\r\n")
                if head is None:
                    return
                req = Request(head[:-4], b"")
                if req.headers.get("transfer-encoding") == "chunked":
                    parts = []
                    while (line := take_until(b"\r\n")) is not None:
                        size = int(line[:-2], 16)
                        if size == 0:
                            take(2)
                            break
                        parts.append(take(size) or b"")
                        take(2)
                    req.body = b"".join(parts)
                else:
                    req.body = take(int(req.headers.get("content-length", "0"))) or b""
                self.requests.append(req)
                route = ROUTES.get(req.path)
                response = route(req) if route else reply("404 Not Found")
                if not isinstance(response, list):
                    if req.method == "HEAD":
                        response = response.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
                    response = [response]
                try:
                    for n, piece in enumerate(response):
                        if n:  # piece by piece, each on its own
                            time.sleep(0.02)
                        conn.sendall(piece)
                except OSError:  # the client left before the end
                    return

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()
        for t in self.threads:
            t.join(5)


@pytest.fixture
def server() -> Iterator[ThreadedRouter]:
    srv = ThreadedRouter()
    yield srv
    srv.close()


# -- module functions ---------------------------------------------------------------


def test_module_functions_block_and_return_the_body(server: ThreadedRouter) -> None:
    r = rawhttp.get(server.url("/body"))
    assert r.status == 200
    assert r.content == BODY
    r = rawhttp.post(server.url("/echo"), content=b"xyz")
    assert r.status == 200
    assert (server.requests[-1].method, server.requests[-1].body) == ("POST", b"xyz")
    assert server.requests[-1].headers["content-length"] == "3"
    assert server.connections == 2  # one-shot: a connection per call


def test_errors_are_rawhttp_errors_in_the_blocking_api() -> None:
    with pytest.raises(rawhttp.InvalidURL):
        rawhttp.get("ftp://127.0.0.1/")
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(rawhttp.ConnectError):
        rawhttp.get(f"http://127.0.0.1:{port}/")


def test_post_json(server: ThreadedRouter) -> None:
    value = {"name": "J\u00fcrgen", "n": [1, 2, None]}
    r = rawhttp.post(server.url("/echo"), json=value)
    assert r.status == 200
    doc = r.json()
    assert doc["method"] == "POST"
    assert doc["headers"]["content-type"] == "application/json"
    assert json.loads(doc["body"].encode("latin-1").decode("utf-8")) == value
    assert doc["headers"]["content-length"] == str(len(doc["body"].encode("latin-1")))


def test_post_form_data_and_put_content(server: ThreadedRouter) -> None:
    doc = rawhttp.post(server.url("/echo"), data={"k": "v w", "x": ["1", "2"]}).json()
    assert doc["body"] == "k=v+w&x=1&x=2"
    assert doc["headers"]["content-type"] == "application/x-www-form-urlencoded"
    doc = rawhttp.put(server.url("/echo"), content="caf\u00e9").json()
    assert (doc["method"], doc["body"].encode("latin-1")) == ("PUT", "caf\u00e9".encode())
    doc = rawhttp.patch(server.url("/echo"), content=b"p", headers={"X-A": "1"}).json()
    assert (doc["method"], doc["headers"]["x-a"]) == ("PATCH", "1")


def test_get_params_and_auth(server: ThreadedRouter) -> None:
    doc = rawhttp.get(server.url("/echo?a=1"), params={"q": "x y", "u": "\u00e9"}).json()
    assert doc["target"] == "/echo?a=1&q=x+y&u=%C3%A9"
    doc = rawhttp.get(server.url("/echo"), params=[("k", "1"), ("k", "2")], auth=("u", "p")).json()
    assert doc["target"] == "/echo?k=1&k=2"
    assert doc["headers"]["authorization"] == "Basic dTpw"
    assert doc["headers"]["user-agent"] == f"rawhttp/{rawhttp.__version__}"


def test_get_follow_redirects(server: ThreadedRouter) -> None:
    r = rawhttp.get(server.url("/r2"))
    assert r.status == 301
    assert r.history == []
    r = rawhttp.get(server.url("/r2"), follow_redirects=True)
    assert r.status == 200
    assert r.url == server.url("/echo?from=r1")
    assert [h.status for h in r.history] == [301, 302]
    assert r.history[1].content == b"to echo"
    assert r.json()["target"] == "/echo?from=r1"


def test_post_follow_303_becomes_get(server: ThreadedRouter) -> None:
    r = rawhttp.post(server.url("/see-other"), json={"a": 1}, follow_redirects=True)
    doc = r.json()
    assert doc["method"] == "GET"
    assert doc["body"] == ""
    assert "content-length" not in doc["headers"]
    assert "content-type" not in doc["headers"]
    r = rawhttp.post(server.url("/temporary"), content=b"again", follow_redirects=True)
    assert (r.json()["method"], r.json()["body"]) == ("POST", "again")


def test_module_functions_accept_session_options(server: ThreadedRouter) -> None:
    with pytest.raises(rawhttp.TooManyRedirects):
        rawhttp.get(server.url("/r2"), follow_redirects=True, max_redirects=1)
    r = rawhttp.get(server.url("/gzip"), decode_content=False)
    assert r.content == GZ
    with pytest.raises(rawhttp.TLSError, match="client certificate"):
        rawhttp.get("https://127.0.0.1:9/", cert=("/nonexistent.crt", "/nonexistent.key"))


def test_get_gzip_is_decoded(server: ThreadedRouter) -> None:
    r = rawhttp.get(server.url("/gzip"))
    assert r.content == DATA
    assert r.headers["content-encoding"] == "gzip"
    assert rawhttp.get(server.url("/gzip-chunked")).content == DATA
    r = rawhttp.head(server.url("/gzip"))
    assert (r.status, r.content) == (200, b"")


# -- SyncSession -----------------------------------------------------------------------


def test_sync_session_keeps_its_pool_between_calls(server: ThreadedRouter) -> None:
    with rawhttp.SyncSession(timeout=5.0) as s:
        for _ in range(5):
            assert s.get(server.url("/body")).content == BODY
        assert "connections=1/100 idle=1" in repr(s._session)
    assert server.connections == 1
    assert s._session.is_closed


def test_closed_sync_session_raises() -> None:
    s = rawhttp.SyncSession()
    s.close()
    with pytest.raises(rawhttp.Error, match="closed"):
        s.get("http://127.0.0.1:9/")


def test_sync_stream_iterates_bounded_chunks(server: ThreadedRouter) -> None:
    with rawhttp.SyncSession() as s:
        with s.stream("GET", server.url("/body")) as r:
            assert r.status == 200
            chunks = list(r.iter_bytes(chunk_size=4096))
        assert max(len(c) for c in chunks) <= 4096
        assert b"".join(chunks) == BODY
        with s.stream("GET", server.url("/body")) as r:
            assert r.read() == BODY


def test_sync_session_follow_redirects(server: ThreadedRouter) -> None:
    with rawhttp.SyncSession(timeout=5.0, follow_redirects=True) as s:
        r = s.get(server.url("/r2"))
        assert r.status == 200
        assert [h.status for h in r.history] == [301, 302]
        r = s.get(server.url("/r2"), follow_redirects=False)
        assert r.status == 301
        with s.stream("GET", server.url("/r1")) as streamed:
            assert streamed.status == 200
            assert [h.status for h in streamed.history] == [302]
            assert json.loads(streamed.read())["target"] == "/echo?from=r1"
    assert server.connections == 1  # redirect bodies drained, one connection throughout
    assert [req.path for req in server.requests] == ["/r2", "/r1", "/echo", "/r2", "/r1", "/echo"]
    with (
        rawhttp.SyncSession(timeout=5.0, follow_redirects=True, max_redirects=1) as s,
        pytest.raises(rawhttp.TooManyRedirects),
    ):
        s.get(server.url("/r2"))


def test_sync_session_stream_iter_bytes_decodes_gzip(server: ThreadedRouter) -> None:
    with rawhttp.SyncSession(timeout=5.0) as s:
        for path in ("/gzip", "/gzip-chunked"):
            with s.stream("GET", server.url(path)) as r:
                assert r.headers["content-encoding"] == "gzip"
                chunks = list(r.iter_bytes(chunk_size=4096))
            assert b"".join(chunks) == DATA
            assert max(len(c) for c in chunks) <= 4096
            assert len(chunks) >= len(DATA) // 4096
        # Stopping early closes the connection instead of reading the rest.
        with s.stream("GET", server.url("/gzip")) as r:
            first = next(iter(r.iter_bytes(1000)))
            assert first == DATA[:1000]
        assert s.get(server.url("/gzip")).content == DATA
        with s.stream("GET", server.url("/gzip")) as r:
            raw = list(r.iter_raw(chunk_size=512))
        assert b"".join(raw) == GZ
        assert max(len(c) for c in raw) <= 512
        assert s.pool.in_use == 0
    with rawhttp.SyncSession(timeout=5.0, decode_content=False) as s:
        with s.stream("GET", server.url("/gzip")) as r:
            assert b"".join(r.iter_bytes()) == GZ
        assert "accept-encoding" not in server.requests[-1].headers


def test_sync_session_bodies_and_defaults(server: ThreadedRouter) -> None:
    with rawhttp.SyncSession(timeout=5.0, auth=("a", "b"), headers={"X-Team": "t"}) as s:
        doc = s.post(server.url("/echo"), json=[1, 2]).json()
        assert doc["headers"]["authorization"] == "Basic YTpi"
        assert doc["headers"]["x-team"] == "t"
        assert doc["body"] == "[1, 2]"
        doc = s.put(server.url("/echo"), data=[("a", "1")], params={"p": "2"}).json()
        assert (doc["target"], doc["body"]) == ("/echo?p=2", "a=1")
        doc = s.post(server.url("/echo"), content=iter([b"chun", b"ked"])).json()
        assert doc["headers"]["transfer-encoding"] == "chunked"
        assert doc["body"] == "chunked"
    assert server.connections <= 2


# -- text streams --------------------------------------------------------------------


def test_sync_stream_iter_text_decodes_characters_split_between_chunks(
    server: ThreadedRouter,
) -> None:
    with rawhttp.SyncSession(timeout=5.0) as s:
        with s.stream("GET", server.url("/text")) as r:
            assert r.encoding == "utf-8"
            pieces = list(r.iter_text())
        assert all(isinstance(p, str) and p for p in pieces)
        assert len(pieces) >= 3  # the chunks came one by one
        assert "".join(pieces) == TEXT
        with s.stream("GET", server.url("/text")) as r:
            small = list(r.iter_text(chunk_size=2))
        assert "".join(small) == TEXT
        # Decoded from at most 2 bytes each, plus the up to 3 bytes of a character
        # begun in the chunk before.
        assert max(len(p.encode()) for p in small) <= 2 + 3
        assert len(small) >= len(TEXT.encode()) // (2 + 3)
        assert s.pool.in_use == 0


def test_sync_stream_iter_lines_joins_line_endings_split_between_chunks(
    server: ThreadedRouter,
) -> None:
    """CR at the end of one chunk and LF at the start of the next are one line
    ending; a character split between chunks is whole; text after the last line
    ending is a last line."""
    with rawhttp.SyncSession(timeout=5.0) as s:
        with s.stream("GET", server.url("/text")) as r:
            assert list(r.iter_lines()) == LINES
        with s.stream("GET", server.url("/lines")) as r:  # 20,000 lines, tiny pieces
            lines = list(r.iter_lines(chunk_size=1000))
        assert lines == DATA.decode().splitlines()
        # Leaving early: the rest is not read, the connection is closed.
        with s.stream("GET", server.url("/lines")) as r:
            first = [line for _, line in zip(range(3), r.iter_lines(), strict=False)]
        assert first == ["sync line 00000", "sync line 00001", "sync line 00002"]
        assert s.pool.in_use == 0
        assert s.get(server.url("/body")).content == BODY


def test_sync_stream_iter_lines_bounds_the_line_length(server: ThreadedRouter) -> None:
    with rawhttp.SyncSession(timeout=5.0) as s:
        with s.stream("GET", server.url("/long-line")) as r:
            lines = r.iter_lines(max_line=1000)
            with pytest.raises(rawhttp.BodyTooLarge) as caught:
                next(lines)
        assert caught.value.limit == 1000
        with s.stream("GET", server.url("/long-line")) as r:
            assert list(r.iter_lines(max_line=None)) == ["x" * 5000]
        with (
            s.stream("GET", server.url("/long-line")) as r,
            pytest.raises(ValueError, match="max_line"),
        ):
            r.iter_lines(max_line=0)
        assert s.pool.in_use == 0
        assert s.get(server.url("/body")).content == BODY
