"""1xx interim responses: 103 Early Hints, and ``Expect: 100-continue`` uploads.

Starts a server on 127.0.0.1, then:

1. GET /page: the server sends ``103 Early Hints`` with ``Link`` headers before
   the final 200; an ``on_informational`` callback receives the 103 as it arrives;
2. PUT /refuse with a 2 MiB body: above 1 MiB rawhttp sends
   ``Expect: 100-continue`` by itself and waits for the server's go-ahead.  The
   server answers 413 at once, so the body is never sent (the server reads 0
   body bytes);
3. PUT /accept with the same body: the server answers ``100 Continue``, then
   reads and stores the body.

    python examples/expect_and_hints.py
"""

from __future__ import annotations

import asyncio

import rawhttp

UPLOAD = b"x" * (2 * 1024 * 1024)
HINTS = (
    b"HTTP/1.1 103 Early Hints\r\n"
    b"Link: </style.css>; rel=preload; as=style\r\n"
    b"Link: </app.js>; rel=preload; as=script\r\n\r\n"
)
SEEN: dict[str, object] = {}  # what the server noticed, for printing


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One request per connection, to keep the demo short."""
    head = await reader.readuntil(b"\r\n\r\n")
    path = head.split(b" ")[1].decode()
    headers = head.lower()
    if path == "/page":
        writer.write(HINTS)  # the browser could start fetching these now
        await writer.drain()
        await asyncio.sleep(0.05)  # ...while the server still works on the page
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npage")
    elif path == "/refuse":
        SEEN["refuse: expect"] = b"expect: 100-continue" in headers
        writer.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        # Whatever still arrives before the client closes would be the body.
        SEEN["refuse: body bytes read"] = len(await reader.read())
    elif path == "/accept":
        SEEN["accept: expect"] = b"expect: 100-continue" in headers
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        length = int(headers.split(b"content-length: ")[1].split(b"\r\n")[0])
        body = await reader.readexactly(length)
        reply = b"stored %d bytes" % len(body)
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(reply), reply))
    await writer.drain()
    writer.close()


def show_interim(interim: rawhttp.InformationalResponse) -> None:  # may also be async
    print("interim:", interim.status, interim.reason, interim.headers.get_all("link"))


async def main() -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server, rawhttp.Session() as session:
        # on_informational can also be given to the Session, for every request.
        r = await session.get(f"{base}/page", on_informational=show_interim)
        print("final:", r.status, r.reason, r.text)

        r = await session.put(f"{base}/refuse", content=UPLOAD)
        print("refused upload:", r.status, r.reason)
        print("  client sent only the head:", r.timings.bytes_sent < len(UPLOAD))

        r = await session.put(f"{base}/accept", content=UPLOAD)
        print("accepted upload:", r.status, r.reason, r.text)
        print("  client sent the body too:", r.timings.bytes_sent > len(UPLOAD))
    await handlers_finished()
    for what, value in SEEN.items():
        print(f"server, {what}: {value}")


async def handlers_finished() -> None:
    """Wait until the server's connection handlers ended (on Python 3.11 closing a
    server does not wait for them): every task but this one."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.wait_for(asyncio.gather(*others), timeout=5)


if __name__ == "__main__":
    asyncio.run(main())
