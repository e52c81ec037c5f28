"""HTTP over a Unix domain socket: ``Session(unix_socket=path)``.

Local services (container engines, app servers behind a web server) often
listen on a socket file instead of a TCP port.  This starts such a server in a
temporary directory; every request of the session goes to that socket, while
the URL still gives the ``Host`` header and the request target.

    python examples/unix_socket.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile

import rawhttp


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A keep-alive server that describes each request it receives, as JSON."""
    with contextlib.suppress(asyncio.IncompleteReadError):
        while head := await reader.readuntil(b"\r\n\r\n"):
            request_line, *lines = head.decode("latin-1").split("\r\n")
            headers = dict(line.split(": ", 1) for line in lines if line)
            body = json.dumps({"request": request_line, "host": headers["Host"]}).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
    writer.close()


async def main(path: str) -> None:
    server = await asyncio.start_unix_server(serve, path)
    async with server, rawhttp.Session(unix_socket=path) as session:
        # Same socket for any URL; each URL gives its own Host header and target.
        for url in ("http://localhost/info", "http://api.internal/v1/items?limit=2"):
            r = await session.get(url)
            seen = r.json()
            print(f"GET {r.url} -> {r.status} {r.reason}")
            print(f"  server saw: {seen['request']} | Host: {seen['host']}")
    await handlers_finished()


async def handlers_finished() -> None:
    """Wait until the server's connection handlers ended (on Python 3.11 closing a
    server does not wait for them): every task but this one."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.wait_for(asyncio.gather(*others), timeout=5)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:  # removed with the socket file in it
        asyncio.run(main(os.path.join(directory, "app.sock")))
