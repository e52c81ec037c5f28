"""What the receive path costs in memory, measured in a fresh interpreter against a
loopback server in another process (so that neither the server's memory nor pytest's
heap history is in the figure):

- 200 idle pooled connections add less than 8 MiB of RSS (each holds a 16 KiB
  receive buffer, rawhttp._reader.INITIAL_SIZE, and a buffer that grew while a body
  streamed shrinks back when the connection goes idle);
- streaming a 1 GiB body grows the peak RSS by less than 32 MiB (one reused receive
  buffer of at most 1 MiB, flow control past 1 MiB unread);
- body after body on one connection, the grown buffer is not faulted in again (a
  spare kept by rawhttp._buffer): a new 1 MiB bytearray per body cost ~490 page
  faults per body, and about a twentieth of a 100 MiB body's time.

Noise margins.  RSS is read from /proc/self/statm (idle) and VmHWM (peak, streaming).
Before the baseline each script makes one request of the same kind, so imports,
the Session, the pool and the allocator's first arenas are already counted; what
remains is per-connection objects and buffers.  Measured here: 200 idle
connections add about 4-5 MiB (16 KiB buffer + transport, protocol, reader and
socket objects, ~23 KiB each); streaming 1 GiB adds 1-3 MiB.  The bounds (8 and 32
MiB) leave room for allocator arenas and Python versions without hiding a buffer
that stays large: 200 x 1 MiB or a body held whole would be far past them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from servers import run_script

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/statm").exists(), reason="RSS read from /proc (Linux only)"
)

SERVER = r"""
import socket, sys, threading

BLOCK = b"\0" * (1 << 20)

def handle(conn):
    with conn:
        buf = b""
        for _ in range(100):  # bounded: requests per connection
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            path = head.split(b" ")[1]
            if path.startswith(b"/huge/"):
                mib = int(path.split(b"/")[2])
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (mib << 20))
                for _ in range(mib):
                    conn.sendall(BLOCK)
            elif path == b"/grow":  # a 4 MiB body: the receive buffer grows on it
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (4 << 20))
                for _ in range(4):
                    conn.sendall(BLOCK)
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

srv = socket.create_server(("127.0.0.1", 0), backlog=512)
print(srv.getsockname()[1], flush=True)
srv.settimeout(60)  # the server process ends on its own if nobody comes
while True:
    try:
        c, _ = srv.accept()
    except TimeoutError:
        break
    c.settimeout(60)
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"""

CLIENT_PRELUDE = """
import asyncio, gc, os, subprocess, sys
import rawhttp

PAGE = os.sysconf("SC_PAGE_SIZE")

def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE

def start_server():
    server = subprocess.Popen(
        [sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True
    )
    port = int(server.stdout.readline())
    return server, port

def stop_server(server):
    server.kill()
    server.wait(10)
"""

IDLE = (
    CLIENT_PRELUDE
    + """
N = 200

async def main(port: int) -> None:
    url = f"http://127.0.0.1:{port}/"
    async with rawhttp.Session(max_connections=N, timeout=rawhttp.Timeout(30.0)) as s:
        # warm-up: imports, the pool, one connection, and a grown buffer given back
        assert (await s.get(url)).content == b"ok"
        assert len((await s.get(url + "grow")).content) == 4 << 20
        gc.collect()
        before = rss()
        responses = await asyncio.gather(*(s.get(url) for _ in range(N)))
        assert all(r.content == b"ok" for r in responses)
        # one of them streams 4 MiB first: its grown buffer must shrink when idle
        assert len((await s.get(url + "grow")).content) == 4 << 20
        gc.collect()
        after = rss()
        pool = s.pool
        print(pool.idle, pool.connections, before, after)

server, port = start_server()
try:
    asyncio.run(main(port))
finally:
    stop_server(server)
"""
)

STREAM = (
    CLIENT_PRELUDE
    + """
MIB = int(sys.argv[2])

async def main(port: int) -> None:
    url = f"http://127.0.0.1:{port}/huge/"
    async with rawhttp.Session(timeout=rawhttp.Timeout(30.0)) as s:
        # warm-up: the same path with a smaller body (the buffer grows to its largest)
        async with s.stream("GET", url + "8") as r:
            async for _ in r.iter_bytes():
                pass
        gc.collect()
        before = rss()
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        total = 0
        async with s.stream("GET", url + str(MIB)) as r:
            async for piece in r.iter_bytes():
                total += len(piece)
        after = peak_rss()
        print(total, before, after)

server, port = start_server()
try:
    asyncio.run(main(port))
finally:
    stop_server(server)
"""
)

REPEAT = (
    CLIENT_PRELUDE
    + """
import resource

async def body(s, url):
    total = 0
    async with s.stream("GET", url) as r:
        async for piece in r.iter_bytes():
            total += len(piece)
    return total

async def main(port: int) -> None:
    url = f"http://127.0.0.1:{port}/huge/8"
    async with rawhttp.Session(timeout=rawhttp.Timeout(30.0)) as s:
        assert await body(s, url) == 8 << 20  # warm-up: the buffer grows once
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(4):
            assert await body(s, url) == 8 << 20
        after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        print(after - before)

server, port = start_server()
try:
    asyncio.run(main(port))
finally:
    stop_server(server)
"""
)

MiB = 1024 * 1024


def test_200_idle_pooled_connections_add_less_than_8_mib(tmp_path: Path) -> None:
    proc = run_script(tmp_path / "idle.py", IDLE, SERVER, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    idle, connections, before, after = map(int, proc.stdout.split())
    assert connections == idle == 200, (connections, idle)
    grown = (after - before) / MiB
    print(f"200 idle connections: +{grown:.2f} MiB RSS", file=sys.stderr)
    assert grown < 8, f"200 idle pooled connections added {grown:.1f} MiB of RSS"


def test_streaming_1_gib_grows_rss_less_than_32_mib(tmp_path: Path) -> None:
    proc = run_script(tmp_path / "stream.py", STREAM, SERVER, "1024", timeout=90)
    assert proc.returncode == 0, proc.stderr[-3000:]
    total, before, peak = map(int, proc.stdout.split())
    assert total == 1024 * MiB
    grown = (peak - before) / MiB
    print(f"streaming 1 GiB: +{grown:.2f} MiB peak RSS", file=sys.stderr)
    assert grown < 32, f"streaming 1 GiB grew the peak RSS by {grown:.1f} MiB"


def test_body_after_body_the_receive_buffer_is_not_faulted_in_again(tmp_path: Path) -> None:
    """Each 8 MiB body grows the relaxed 16 KiB buffer back to 1 MiB: from a spare,
    not fresh memory (before: about 1,900 page faults for these 4 bodies)."""
    proc = run_script(tmp_path / "repeat.py", REPEAT, SERVER, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    faults = int(proc.stdout)
    print(f"4 bodies of 8 MiB on one connection: {faults} page faults", file=sys.stderr)
    assert faults < 400, f"{faults} page faults for 4 bodies on one connection"
