"""Fetch from a local HTTP server with rawhttp, fully offline.

Starts a small server on 127.0.0.1 (a free port), then uses one Session to:
fetch a page, reuse the kept-alive connection, stream a chunked body, post
JSON, and show a typed error for a malformed response.

    python examples/fetch_local.py
"""

from __future__ import annotations

import asyncio
import json

import rawhttp

PAGES = {
    b"/": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\nHello, world!",
    b"/chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"6\r\nchunks\r\n1\r\n \r\n3;ext=1\r\nand\r\n9\r\n trailers\r\n0\r\nX-Checksum: 42\r\n\r\n"
    ),
    b"/broken": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
}


HANDLERS: set[asyncio.Task[None]] = set()


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A tiny keep-alive server: answers each request from PAGES, echoes POST bodies."""
    task = asyncio.current_task()
    assert task is not None
    HANDLERS.add(task)
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            method, path, _ = head.split(b" ", 2)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            if method == b"POST":
                reply = json.dumps({"you_sent": json.loads(body)}).encode()
                writer.write(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(reply), reply)
                )
            else:
                writer.write(
                    PAGES.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                )
            await writer.drain()
    finally:
        writer.close()
        HANDLERS.discard(task)


async def main() -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    async with server:
        await fetch_all(base)
        # The session closed its connections; let the server's handlers see EOF and finish.
        await asyncio.wait_for(asyncio.gather(*HANDLERS), timeout=5)


async def fetch_all(base: str) -> None:
    async with rawhttp.Session(timeout=rawhttp.Timeout(5.0)) as session:
        r = await session.get(f"{base}/")
        print(r.http_version, r.status, r.reason, "|", r.headers["content-type"], "|", r.text)

        r = await session.get(f"{base}/")  # same connection, kept alive
        print("second request reused the connection:", session)

        async with session.stream("GET", f"{base}/chunked") as r:
            pieces = [chunk async for chunk in r.iter_bytes()]
        print("streamed:", b"".join(pieces).decode(), "| trailers:", r.trailers.items())

        r = await session.post(
            f"{base}/echo",
            content=json.dumps({"hello": "rawhttp"}),
            headers={"Content-Type": "application/json"},
        )
        print(r.status, r.json())

        r = await session.get(f"{base}/missing")
        try:
            r.raise_for_status()
        except rawhttp.HTTPStatusError as exc:
            print("HTTPStatusError:", exc)

        try:
            await session.get(f"{base}/broken")
        except rawhttp.ProtocolError as exc:
            print("ProtocolError:", exc)


if __name__ == "__main__":
    asyncio.run(main())
