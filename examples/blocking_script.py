"""A plain script with the blocking API: no async code, offline.

Starts a small HTTP server on 127.0.0.1 in a thread, then uses rawhttp the way
a shell-style script would: one-shot calls, a SyncSession that keeps its
connection, a streamed download to a file, and typed errors.

    python examples/blocking_script.py
"""

from __future__ import annotations

import gzip
import http.server
import json
import os
import tempfile
import threading

import rawhttp

BIG = b"0123456789abcdef" * 65536  # 1 MiB


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path.startswith("/big"):
            self._reply(200, BIG, "application/octet-stream")
        elif self.path.startswith("/gzip"):
            self._reply(200, gzip.compress(b"squeezed " * 1000), "text/plain", gzipped=True)
        elif self.path.startswith("/old"):
            self.send_response(301)
            self.send_header("Location", "/new")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._reply(200, json.dumps({"path": self.path}).encode(), "application/json")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._reply(201, json.dumps({"got": body.decode()}).encode(), "application/json")

    def _reply(self, status: int, body: bytes, ctype: str, gzipped: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:  # keep the output clean
        pass


def main() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        r = rawhttp.get(f"{base}/hello", params={"q": "a b"})  # one-shot
        print(r.status, r.json())

        with rawhttp.SyncSession(timeout=5.0, follow_redirects=True) as s:
            print(s.post(f"{base}/items", data={"name": "rawhttp"}).json())
            r = s.get(f"{base}/old")
            print("redirected:", [h.status for h in r.history], "->", r.url.removeprefix(base))
            print("decoded gzip:", len(s.get(f"{base}/gzip").content), "bytes")

            path = os.path.join(tempfile.mkdtemp(), "big.bin")
            with s.stream("GET", f"{base}/big") as r, open(path, "wb") as f:
                for chunk in r.iter_bytes():  # at most 64 KiB at a time
                    f.write(chunk)
            print("downloaded:", os.path.getsize(path), "bytes")
            os.remove(path)

        try:
            rawhttp.get("http://127.0.0.1:1/", timeout=2.0)
        except rawhttp.ConnectError as exc:
            print("ConnectError:", type(exc).__name__)
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
