"""Instructions per small GET, counted by valgrind (callgrind): a figure that does not
drift with the machine's load, unlike wall-clock rates.

    python bench/instructions.py URL [--n 1000]

URL is a small resource on a local keep-alive server, for example nginx started by
``bench/run.py --keep``, or any loopback server.  For each client (rawhttp,
aiohttp, floor) the same script runs twice under callgrind, with 200 warm-up
requests and then 0 or N more; the difference over N is the cost of one request
(interpreter start-up and imports cancel out).  Needs valgrind (apt-get install
valgrind).  Counts user-space instructions only: the kernel's work is not included.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

CLIENT = r"""
import asyncio, sys
from urllib.parse import urlsplit
url, n, which = sys.argv[1], int(sys.argv[2]), sys.argv[3]
u = urlsplit(url)
async def main():
    if which == "rawhttp":
        import rawhttp
        async with rawhttp.Session() as s:
            for _ in range(200 + n):
                (await s.get(url)).content
    elif which == "aiohttp":
        import aiohttp
        async with aiohttp.ClientSession() as s:
            for _ in range(200 + n):
                async with s.get(url) as r:
                    await r.read()
    else:  # floor: bare asyncio streams
        reader, writer = await asyncio.open_connection(u.hostname, u.port, limit=1 << 20)
        req = b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (u.path.encode(), u.hostname.encode(), u.port)
        for _ in range(200 + n):
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            i = head.lower().find(b"\r\ncontent-length:")
            await reader.readexactly(int(head[i + 17 : head.index(b"\r\n", i + 2)]))
        writer.close()
asyncio.run(main())
"""


def count(url: str, n: int, which: str) -> int:
    out = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            CLIENT,
            url,
            str(n),
            which,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    m = re.search(r"Collected : (\d+)", out.stderr)
    if m is None:
        raise SystemExit(f"no callgrind total for {which}: {out.stderr[-500:]}")
    return int(m.group(1))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("url")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--clients", default="rawhttp,aiohttp,floor")
    args = p.parse_args()
    results = {}
    for which in args.clients.split(","):
        results[which] = (count(args.url, args.n, which) - count(args.url, 0, which)) / args.n
        print(f"{which:8s} {results[which]:10,.0f} instructions per request", flush=True)
    if "rawhttp" in results:
        for which, value in results.items():
            if which != "rawhttp":
                print(
                    f"rawhttp/{which} instruction ratio: {results['rawhttp'] / value:.2f} (lower is better)"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
