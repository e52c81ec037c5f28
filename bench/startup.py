"""CLI start-up: a plain http fetch of a small body with the ``rawhttp`` command,
against the wall time of ``python -c "import asyncio"`` (target: at most 1.5x).

    python bench/startup.py [--runs 15]

Compiles rawhttp's bytecode first (``compileall``), as an installed package has it:
with PYTHONDONTWRITEBYTECODE=1 set (as on these machines) an editable checkout
would otherwise be recompiled on every start.  The server is a tiny thread on
127.0.0.1; runs alternate A B A B and the medians are compared.
"""

from __future__ import annotations

import argparse
import compileall
import os
import socket
import statistics
import subprocess
import sys
import threading
import time

import rawhttp


def serve(sock: socket.socket) -> None:
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world\n")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, timeout=30)
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=15)
    args = p.parse_args()
    compileall.compile_dir(os.path.dirname(rawhttp.__file__), quiet=1)
    sock = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=serve, args=(sock,), daemon=True).start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    base, fetch = [], []
    for _ in range(args.runs):
        base.append(timed([sys.executable, "-c", "import asyncio"]))
        fetch.append(timed([sys.executable, "-m", "rawhttp", url]))
    sock.close()
    mb, mf = statistics.median(base), statistics.median(fetch)
    print(f'python -c "import asyncio": median {mb * 1000:.0f} ms')
    print(f"rawhttp {url}: median {mf * 1000:.0f} ms")
    print(f"ratio {mf / mb:.2f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
