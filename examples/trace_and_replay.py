"""Record an exchange to a file, replay it offline, and trace the bytes of one request.

Starts a small server on 127.0.0.1 that answers with a chunked body, then:

1. fetches it with ``Session(trace=rawhttp.Recorder(path))``: every connect,
   send and receive event goes to ``path``, the received bytes exactly as the
   server sent them (chunk-size lines and trailers included);
2. reads the recording back (its format is documented in rawhttp/_record.py);
3. ``rawhttp.replay(path)`` parses the recorded response again, with no network,
   and the result equals the live response;
4. a ``trace=`` callable given to one request counts its bytes sent and received.

    python examples/trace_and_replay.py
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import Counter

import rawhttp

RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"7\r\nrecord \r\n4\r\nand \r\n6\r\nreplay\r\n0\r\nX-Checksum: 7\r\n\r\n"
)


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A keep-alive server: the same chunked response to every request."""
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(RESPONSE)
            await writer.drain()
    except asyncio.IncompleteReadError:  # the client closed the connection
        writer.close()


async def handlers_finished() -> None:
    """Wait until the server's connection handlers ended (on Python 3.11 closing a
    server does not wait for them): every task but this one."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    await asyncio.wait_for(asyncio.gather(*others), timeout=5)


async def fetch(path: str) -> tuple[rawhttp.Response, Counter[str], int]:
    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/report"
    counted: Counter[str] = Counter()  # bytes sent and received, connect events

    def count(event: rawhttp.TraceEvent) -> None:  # a plain function works; so does async
        counted[event.kind] += len(event.data) or 1

    async with server:
        with rawhttp.Recorder(path) as recorder:
            async with rawhttp.Session(trace=recorder) as session:
                live = await session.get(url)  # recorded
                # trace= on one request replaces the session's hook: not recorded.
                # It runs on the kept-alive connection, so it sees no "connect".
                again = await session.get(url, trace=count)
        await handlers_finished()  # the session closed its connection: handlers see EOF
    return live, counted, again.timings.bytes_sent


def read_recording(path: str) -> list[tuple[str, bytes]]:
    """(kind, data) of each event: a header line, then
    ``<kind> <connection> <time> <length>\\n<data>\\n`` per event."""
    with open(path, "rb") as f:
        assert f.readline() == b"rawhttp-trace 1\n"
        events = []
        while line := f.readline():
            kind, _connection, _time, length = line.decode("ascii").split()
            events.append((kind, f.read(int(length))))
            f.read(1)  # the newline after the data
    return events


def main() -> None:
    path = os.path.join(tempfile.mkdtemp(), "exchange.rawhttp")
    live, counted, bytes_sent = asyncio.run(fetch(path))

    events = read_recording(path)
    received = b"".join(data for kind, data in events if kind == "receive")
    request_line = next(data for kind, data in events if kind == "send").split(b"\r\n")[0]
    print("recorded kinds:", ", ".join(dict.fromkeys(kind for kind, _ in events)))
    print("recorded request line:", request_line.decode())
    print(f"recorded {len(received)} bytes received, exactly as sent: {received == RESPONSE}")

    replayed = rawhttp.replay(path)  # offline: the same parser on the recorded bytes
    for name, r in (("live", live), ("replayed", replayed)):
        print(f"{name}: {r.status} {r.headers.items()} {r.content!r} {r.trailers.items()}")
    same = [(r.status, r.headers.items(), r.content) for r in (live, replayed)]
    print("replay equals the live response:", same[0] == same[1])

    print("per-request trace: connect events:", counted["connect"])
    print("per-request trace: received", counted["receive"], "bytes")
    print("per-request trace: sent bytes == timings.bytes_sent:", counted["send"] == bytes_sent)
    os.remove(path)
    os.rmdir(os.path.dirname(path))


if __name__ == "__main__":
    main()
