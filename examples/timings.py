"""Where the time of a request went, and how many bytes crossed the wire: ``r.timings``.

Starts a server on 127.0.0.1 that counts the bytes it reads and writes per
request, then sends GETs on one kept-alive connection and on a new one, and
compares ``r.timings`` with what the server counted.  A slow endpoint shows
which phase dominates when the server takes its time.  Durations vary from run
to run, so the example prints which phases took any time, not how long.

    python examples/timings.py
"""

from __future__ import annotations

import asyncio

import rawhttp

PHASES = ("pool", "connect", "tls", "send", "wait", "receive")
SERVER_COUNTS: list[tuple[int, int]] = []  # (bytes read, bytes written) per request


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Keep-alive server.  /chunked answers with a chunked body, /slow after 0.2 s,
    and /last says ``Connection: close``, so the next request needs a new connection."""
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            path = head.split(b" ")[1]
            if path == b"/slow":
                await asyncio.sleep(0.2)
            if path == b"/chunked":
                reply = (
                    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
                )
            else:
                close = b"Connection: close\r\n" if path == b"/last" else b""
                reply = b"HTTP/1.1 200 OK\r\n%sContent-Length: 5\r\n\r\nhello" % close
            SERVER_COUNTS.append((len(head), len(reply)))
            writer.write(reply)
            await writer.drain()
            if path == b"/last":
                break
    except asyncio.IncompleteReadError:  # the client closed the connection
        pass
    writer.close()


def describe(path: str, r: rawhttp.Response) -> None:
    t = r.timings
    took = " ".join(name for name in PHASES if (getattr(t, name) or 0.0) > 0)
    server_read, server_wrote = SERVER_COUNTS[-1]
    sent = "==" if t.bytes_sent == server_read else "!="
    received = "==" if t.bytes_received == server_wrote else "!="
    print(
        f"GET {path}: {'reused' if t.reused else 'new'} connection, phases > 0: {took}, tls={t.tls}"
    )
    print(
        f"  bytes_sent {sent} server read, bytes_received {t.bytes_received} {received} server wrote"
    )


async def main() -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server, rawhttp.Session() as session:
        for path in ("/first", "/chunked", "/last", "/again"):
            describe(path, await session.get(base + path))

        r = await session.get(base + "/slow")  # reused connection, a server that thinks
        t = r.timings
        others = max(t.pool, t.connect, t.tls, t.send, t.receive or 0.0)
        print("GET /slow: wait is the longest phase:", t.wait > others)
        print("GET /slow: wait is most of the total:", t.wait > (t.total or 0.0) / 2)
        parts = t.pool + t.connect + t.tls + t.send + t.wait
        print("first_byte ~= pool + connect + tls + send + wait:", abs(t.first_byte - parts) < 0.01)
    await handlers_finished()


async def handlers_finished() -> None:
    """Wait until the server's connection handlers ended (on Python 3.11 closing a
    server does not wait for them): every task but this one."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.wait_for(asyncio.gather(*others), timeout=5)


if __name__ == "__main__":
    asyncio.run(main())
