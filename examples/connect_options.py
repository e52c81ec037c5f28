"""How rawhttp opens TCP connections: source address, IPv6 literals, dual-stack names.

Starts servers that answer with the client address they saw, then shows:

1. ``Session(local_address="127.0.0.1")``: the source address of outgoing
   connections (on a multi-homed machine, which interface a request leaves by);
2. an IPv6 literal URL, ``http://[::1]:PORT/`` (skipped, with a note, when this
   machine has no IPv6 loopback);
3. ``http://localhost:PORT/`` with a server listening on 127.0.0.1 only: when
   ``localhost`` also resolves to ::1, that attempt is refused and rawhttp falls
   back to the next address (RFC 8305 "happy eyeballs": ``happy_eyeballs_delay``
   is how long it waits before trying the next address in parallel).

    python examples/connect_options.py
"""

from __future__ import annotations

import asyncio

import rawhttp


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One request per connection: the body is the peer address, the Host header after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    host = head.split(b"\r\nHost: ")[1].split(b"\r\n")[0]
    peer = writer.get_extra_info("peername")[0].encode()
    body = peer + b" " + host
    writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + body)
    await writer.drain()
    writer.close()


def port_of(server: asyncio.Server) -> int:
    return int(server.sockets[0].getsockname()[1])


async def main() -> None:
    v4 = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        v6: asyncio.Server | None = await asyncio.start_server(serve, "::1", 0)
    except OSError:  # no IPv6 on this machine (or ::1 not configured)
        v6 = None

    async with rawhttp.Session(local_address="127.0.0.1") as s:
        r = await s.get(f"http://127.0.0.1:{port_of(v4)}/")
        peer, _host = r.text.split()
        print("local_address=127.0.0.1: server saw the client at", peer)

    if v6 is None:
        print("IPv6 literal: skipped, this machine has no ::1")
    else:
        async with rawhttp.Session() as s:
            r = await s.get(f"http://[::1]:{port_of(v6)}/")
        peer, host = r.text.split()
        print("IPv6 literal: server saw the client at", peer)
        print("IPv6 literal: Host header in brackets:", host == f"[::1]:{port_of(v6)}")

    async with rawhttp.Session(happy_eyeballs_delay=0.25) as s:
        r = await s.get(f"http://localhost:{port_of(v4)}/")
    peer, host = r.text.split()
    print("localhost, server on 127.0.0.1 only:", r.status, "from", peer)
    print("localhost: Host header keeps the name:", host == f"localhost:{port_of(v4)}")

    for server in (v4, v6):
        if server is not None:
            server.close()
            await server.wait_closed()
    await handlers_finished()


async def handlers_finished() -> None:
    """Wait until the servers' connection handlers ended (on Python 3.11 closing a
    server does not wait for them): every task but this one."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.wait_for(asyncio.gather(*others), timeout=5)


if __name__ == "__main__":
    asyncio.run(main())
