"""Does creating many Sessions reload the CA bundle?  (issue: 100 Sessions doing one
https request each must cost no more than twice 100 requests over 100 fresh
connections on one Session.)

    python bench/tls_sessions.py [--rounds 5] [--n 100]

Starts a TLS server (Python asyncio, trustme certificate for 127.0.0.1) in its own
process, then alternates, each round:
  A  one Session, N requests with ``Connection: close`` (N fresh TLS connections);
  B  N Sessions, each created, used for one request and closed.
Both verify against the trustme CA bundle by path.  Prints medians and B/A.
Needs trustme (bench/setup.sh installs it).  Loopback only; bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time

SERVER = r"""
import asyncio, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1])
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            close = b"connection: close" in head.lower()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n" +
                         (b"Connection: close\r\n" if close else b"") + b"\r\nhello world\n")
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await asyncio.sleep(600)
asyncio.run(main())
"""


async def one_session(url: str, ca: str, n: int) -> float:
    import rawhttp

    t = time.perf_counter()
    async with rawhttp.Session(verify=ca, timeout=10.0) as s:
        for _ in range(n):
            r = await s.get(url, headers={"Connection": "close"})
            assert r.content == b"hello world\n"
    return time.perf_counter() - t


async def many_sessions(url: str, ca: str, n: int) -> float:
    import rawhttp

    t = time.perf_counter()
    for _ in range(n):
        async with rawhttp.Session(verify=ca, timeout=10.0) as s:
            r = await s.get(url)
            assert r.content == b"hello world\n"
    return time.perf_counter() - t


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--n", type=int, default=100)
    args = p.parse_args()
    import trustme

    with tempfile.TemporaryDirectory() as tmp:
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1")
        server_pem = os.path.join(tmp, "server.pem")
        cert.private_key_and_cert_chain_pem.write_to_path(server_pem)
        ca_pem = os.path.join(tmp, "ca.pem")
        ca.cert_pem.write_to_path(ca_pem)
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, server_pem], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            url = f"https://127.0.0.1:{port}/"
            a: list[float] = []
            b: list[float] = []
            for _ in range(args.rounds):
                a.append(asyncio.run(asyncio.wait_for(one_session(url, ca_pem, args.n), 120)))
                b.append(asyncio.run(asyncio.wait_for(many_sessions(url, ca_pem, args.n), 120)))
        finally:
            server.kill()  # the server process this script started, by its handle
            server.wait()
    ma, mb = statistics.median(a), statistics.median(b)
    print(
        f"A  1 Session, {args.n} fresh TLS connections: median {ma * 1000:.0f} ms  {[round(x * 1000) for x in a]}"
    )
    print(
        f"B  {args.n} Sessions, one request each:        median {mb * 1000:.0f} ms  {[round(x * 1000) for x in b]}"
    )
    print(f"B/A = {mb / ma:.2f}  (target <= 2.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
