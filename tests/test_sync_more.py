"""The blocking API with request bodies, params, redirects and content decoding,
over a threaded loopback server (the blocking API cannot run inside a running loop)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

import rawhttp

DATA = b"".join(b"sync line %05d\n" % i for i in range(20_000))  # 320,000 bytes
GZ = gzip.compress(DATA)


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


Route = Callable[[Request], bytes]


def echo(req: Request) -> bytes:
    doc = {
        "method": req.method,
        "target": req.target,
        "headers": req.headers,
        "body": req.body.decode("latin-1"),
    }
    return reply("200 OK", json.dumps(doc).encode(), "Content-Type: application/json\r\n")


ROUTES: dict[str, Route] = {
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
                if req.method == "HEAD":
                    response = response.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
                conn.sendall(response)

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
