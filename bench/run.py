"""rawhttp benchmark: rawhttp against aiohttp, httpx, urllib3 and a bare asyncio loop.

    python bench/run.py [--rounds N] [--only SCENARIO,...] [--clients a,b] [--quick]
                        [--no-setup] [--timeout S] [--keep] [--no-heap-trim]
                        [--uvloop] [--no-pin] [--targets]

Installs what it needs (bench/setup.sh), starts a private nginx on free 127.0.0.1
ports with its own config and files in a temporary directory, runs every client in
its own process once per scenario per round (interleaved: A B C A B C ...), prints
medians and rawhttp/peer ratios, and writes everything to bench/results/latest.json.
nginx is stopped by its PID when the run ends, however it ends.  With taskset, nginx
runs on CPU 0 and every client on CPU 1 (--no-pin: wherever the kernel puts them).
``--targets`` runs exactly what issue 15's targets need and prints each target with its
ratio and whether it holds.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gzip
import hashlib
import json
import os
import platform
import random
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from clients import CLIENTS, UNITS, UVLOOP_CLIENTS, UVLOOP_SUFFIX  # bench/clients.py: on sys.path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DEFAULT_CLIENTS = ["rawhttp", "rawhttp-sync", "aiohttp", "httpx", "urllib3", "floor"]
PEERS = ["aiohttp", "httpx", "urllib3", "floor", "bare", "ceiling"]
STREAM_ONLY = {"bare": ("big", "long", "rss"), "ceiling": ("big", "chunked", "long", "rss")}
"""Protocol-level floors: one plain connection, streamed bodies only (bare needs a
Content-Length).  Other scenarios are not run for them."""
SYNC = "rawhttp-sync"  # rawhttp's blocking API (SyncSession), compared with its async self
SYNC_PEERS = ["rawhttp", "urllib3"]
SYNC_STREAM_TARGET = 0.8  # streaming through the blocking API: at least 0.8x async rawhttp
SCENARIOS = ["seq", "conc", "big", "chunked", "long", "tls_seq", "tls_new", "rss", "idle", "gzip"]

MiB = 1024 * 1024
RSS_RATIO_MIN_MIB = 1.0  # below this, an RSS growth is noise: no ratio, only the MiB
SMALL_BODY = b"hello world\n"  # 12 bytes
BIG_SIZE = 100 * MiB
CHUNKED_SIZE = 64 * MiB
HUGE_SIZE = 1024 * MiB
GZIP_SIZE = 4 * MiB

# What each scenario fetches and how much: full run, then --quick.
SCENARIO_SPEC: dict[str, dict[str, Any]] = {
    # Counts sized so that each timed part takes about 0.5-2 s here (2 cores, 2026):
    # with fewer, one scheduling hiccup moves a figure by 2x.
    "seq": dict(path="/small", tls=False, size=len(SMALL_BODY), n=15000, warmup=200, conc=1),
    "conc": dict(path="/small", tls=False, size=len(SMALL_BODY), n=15000, warmup=200, conc=100),
    "big": dict(path="/big", tls=False, size=BIG_SIZE, reps=20, conc=1),
    "chunked": dict(path="/chunked", tls=False, size=CHUNKED_SIZE, reps=20, conc=1),
    "tls_seq": dict(path="/small", tls=True, size=len(SMALL_BODY), n=8000, warmup=100, conc=1),
    "tls_new": dict(path="/small", tls=True, size=len(SMALL_BODY), n=200, warmup=10, conc=1),
    "long": dict(path="/huge", tls=False, size=HUGE_SIZE, reps=2, conc=1),
    "rss": dict(path="/huge", tls=False, size=HUGE_SIZE, reps=1, conc=1),
    "gzip": dict(path="/gzip", tls=False, size=GZIP_SIZE, n=40, warmup=2, conc=1),
    "idle": dict(path="/small", tls=False, size=len(SMALL_BODY), n=200, warmup=0, conc=200),
}
QUICK = {
    "seq": dict(n=500, warmup=50),
    "conc": dict(n=500, warmup=100),
    "big": dict(reps=1),
    "chunked": dict(reps=1),
    "tls_seq": dict(n=200, warmup=10),
    "tls_new": dict(n=20, warmup=2),
    "long": dict(reps=1),
    "rss": dict(path="/big", size=BIG_SIZE),
    "gzip": dict(n=5, warmup=1),
    "idle": dict(),
}
WHAT = {
    "seq": "sequential GET /small (12 B), one keep-alive connection",
    "conc": "GET /small, 100 in flight, at most 100 connections",
    "big": "stream /big (100 MiB, Content-Length)",
    "chunked": "stream /chunked (64 MiB, Transfer-Encoding: chunked)",
    "tls_seq": "sequential GET /small over one TLS keep-alive connection",
    "tls_new": "GET /small over TLS with Connection: close (new connection each)",
    "long": "stream /huge (1 GiB, Content-Length) twice: steadier than big",
    "rss": "peak RSS growth while streaming /huge (1 GiB); lower is better",
    "gzip": "GET /gzip (4 MiB text, gzip-encoded), decoded; MB/s of decoded bytes",
    "idle": "RSS growth of 200 idle pooled keep-alive connections; lower is better",
}
MEMORY = ("rss", "idle")  # scenarios whose figure is MiB, lower is better

# -- issue 15's targets ---------------------------------------------------------------

UV = UVLOOP_SUFFIX
TARGETS: list[tuple[str, str, str, str, float]] = [
    # (label, scenario, client, peer or "" for an absolute MiB bound, bound)
    ("100 MiB body >= 0.9x bare BufferedProtocol", "big", "rawhttp", "bare", 0.9),
    ("100 MiB body >= 1.5x aiohttp", "big", "rawhttp", "aiohttp", 1.5),
    ("100 MiB body >= 0.85x urllib3", "big", "rawhttp", "urllib3", 0.85),
    ("64 MiB chunked >= 0.8x ceiling.py loop", "chunked", "rawhttp", "ceiling", 0.8),
    ("64 MiB chunked >= 1.3x aiohttp", "chunked", "rawhttp", "aiohttp", 1.3),
    ("64 MiB chunked >= 0.75x urllib3", "chunked", "rawhttp", "urllib3", 0.75),
    ("seq small GETs >= 1.4x aiohttp", "seq", "rawhttp", "aiohttp", 1.4),
    ("seq small GETs >= 3x httpx", "seq", "rawhttp", "httpx", 3.0),
    ("100 in flight >= 1.3x aiohttp", "conc", "rawhttp", "aiohttp", 1.3),
    ("TLS keep-alive small GETs >= 1.2x aiohttp", "tls_seq", "rawhttp", "aiohttp", 1.2),
    *(
        (f"uvloop {sc}: ahead of aiohttp (> 1x)", sc, "rawhttp" + UV, "aiohttp" + UV, 1.0)
        for sc in ("seq", "conc", "big", "chunked", "tls_seq")
    ),
    ("SyncSession small GETs >= 1.0x urllib3", "seq", "rawhttp-sync", "urllib3", 1.0),
    ("SyncSession 100 MiB stream >= 0.7x urllib3", "big", "rawhttp-sync", "urllib3", 0.7),
    ("200 idle pooled connections < 8 MiB", "idle", "rawhttp", "", 8.0),
    ("streaming 1 GiB: RSS growth < 32 MiB", "rss", "rawhttp", "", 32.0),
]


def target_plan() -> dict[str, list[str]]:
    """Scenario -> the clients the targets need (in CLIENTS order)."""
    plan: dict[str, set[str]] = {}
    for _, sc, me, peer, _ in TARGETS:
        plan.setdefault(sc, set()).update(c for c in (me, peer) if c)
    return {sc: [c for c in CLIENTS if c in plan[sc]] for sc in SCENARIOS if sc in plan}


def evaluate_targets(
    medians: dict[str, dict[str, float | None]], runs: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each target: the ratio of the medians (or the MiB), the per-round ratios, and
    whether it holds."""
    out = []
    for label, sc, me, peer, bound in TARGETS:
        mine = medians.get(sc, {}).get(me)
        rec: dict[str, Any] = {"target": label, "scenario": sc, "client": me, "peer": peer}
        if not peer:
            rec.update(value=mine, bound=bound, holds=None if mine is None else mine < bound)
        else:
            theirs = medians.get(sc, {}).get(peer)
            ratio = None if mine is None or not theirs else mine / theirs
            rounds = paired_ratios(runs, me, [peer]).get(sc, {}).get(peer)
            rec.update(
                value=None if ratio is None else round(ratio, 3),
                per_round_median=rounds,
                bound=bound,
                holds=None
                if ratio is None
                else (ratio > bound if bound == 1.0 else ratio >= bound),
            )
        out.append(rec)
    return out


def print_targets(targets: list[dict[str, Any]]) -> None:
    rows = []
    for t in targets:
        v = t["value"]
        if t["peer"]:
            shown = "n/a" if v is None else f"{v:.2f}x"
            rounds = t.get("per_round_median")
            shown += "" if rounds is None else f" ({rounds:.2f})"
        else:
            shown = "n/a" if v is None else f"{v:.1f} MiB"
        verdict = "n/a" if t["holds"] is None else "holds" if t["holds"] else "NOT MET"
        rows.append([t["target"], shown, verdict])
    print_table(
        "Issue 15 targets (ratio of the medians; in brackets the median of the per-round ratios)",
        ["target", "measured", ""],
        rows,
    )


# -- processes ------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In a child before exec: get SIGTERM if this runner dies (Linux prctl)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


NO_HEAP_TRIM = {"MALLOC_TRIM_THRESHOLD_": "33554432", "MALLOC_MMAP_THRESHOLD_": "33554432"}
"""glibc keeps up to 32 MiB free at the top of its heap instead of returning it to the
kernel after each free, and serves blocks up to 32 MiB from the heap.  The same for
every client: it takes the allocator's page-fault lottery out of the comparison."""


def add_result(rec: dict[str, Any], code: int | None, out: str, err: str, timeout: float) -> None:
    """Into ``rec``: the last JSON line a measurement process printed, or why none
    counts (killed past ``timeout``, a non-zero exit)."""
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if lines:
        rec.update(json.loads(lines[-1]))
    if code is None:
        rec["error"] = f"killed after the {timeout:.0f} s timeout"
    elif code != 0 and "error" not in rec:
        rec["error"] = f"exit code {code}: {err.strip()[-500:]}"


def run_bounded(
    cmd: list[str], timeout: float, env: dict[str, str] | None = None
) -> tuple[int | None, str, str]:
    """Run ``cmd`` in its own process group; past ``timeout`` kill that group by its id."""
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out, err
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise


def server_counters(port: int) -> tuple[int, int] | None:
    """nginx stub_status: (connections accepted, requests) so far, this query included."""
    try:
        _, body = raw_get(port, "/status")
        accepts, _, requests = body.splitlines()[2].split()
        return int(accepts), int(requests)
    except (OSError, ValueError, IndexError):
        return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the server -----------------------------------------------------------------------


def text_block(size: int) -> bytes:
    """Compressible text (about 4:1 with gzip), reproducible."""
    rnd = random.Random(1)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "lorem", "ipsum"]
    out, n, i = [], 0, 0
    while n < size:
        line = f"{i:08d} {' '.join(rnd.choices(words, k=9))} {rnd.getrandbits(32):08x}\n".encode()
        out.append(line)
        n += len(line)
        i += 1
    return b"".join(out)[:size]


def make_files(tmp: Path) -> dict[str, Any]:
    docroot = tmp / "www"
    docroot.mkdir()
    (docroot / "small").write_bytes(SMALL_BODY)
    block = os.urandom(MiB)
    with open(docroot / "big", "wb") as f:
        for _ in range(BIG_SIZE // MiB):
            f.write(block)
    with open(docroot / "huge", "wb") as f:
        f.truncate(HUGE_SIZE)  # sparse: reads as zeros, costs no disk
    text = text_block(MiB)
    with open(docroot / "chunked-data.txt", "wb") as f:
        for _ in range(CHUNKED_SIZE // MiB):
            f.write(text)
    # SSI: the body is exactly the included file, sent chunked (its length is not known
    # to nginx up front).  No newline after the directive.
    (docroot / "chunked").write_bytes(b'<!--# include virtual="/chunked-data.txt" -->')
    gz_text = text_block(GZIP_SIZE)
    (docroot / "gzip").write_bytes(gz_text)
    (docroot / "gzip.gz").write_bytes(gzip.compress(gz_text, compresslevel=6, mtime=0))
    for p in [tmp, docroot, *docroot.iterdir()]:  # nginx workers run as nobody
        p.chmod(0o755 if p.is_dir() else 0o644)
    sha = hashlib.sha256()
    for _ in range(CHUNKED_SIZE // MiB):
        sha.update(text)
    return {
        "docroot": docroot,
        "chunked_sha256": sha.hexdigest(),
        "gzip_wire_bytes": (docroot / "gzip.gz").stat().st_size,
    }


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if not found:
        raise SystemExit("nginx not found: run bench/setup.sh (or drop --no-setup)")
    return found


def nginx_config(
    tmp: Path, docroot: Path, http_port: int, tls_port: int, gzip_static: bool, stub_status: bool
) -> str:
    temp = tmp / "nginx-temp"
    temp.mkdir(exist_ok=True)
    static = "gzip_static on;" if gzip_static else ""
    status = "location = /status { stub_status; }" if stub_status else ""
    return f"""
worker_processes 1;
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    types {{ text/plain txt; text/html html shtml; }}
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_requests 1000000;
    keepalive_timeout 75s;
    gzip off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{http_port};
        listen 127.0.0.1:{tls_port} ssl;
        ssl_certificate {tmp}/server.pem;
        ssl_certificate_key {tmp}/server.pem;
        root {docroot};
        location = /small {{ default_type text/plain; }}
        location = /big {{ }}
        location = /huge {{ }}
        location = /chunked {{ default_type text/html; ssi on; }}
        # read into 32 KiB buffers, not sendfile: nginx sends chunks of 64 KiB (two
        # buffers; a few of 32 KiB), not one 64 MiB chunk
        location = /chunked-data.txt {{ internal; sendfile off; output_buffers 2 32k; }}
        {status}
        location = /gzip {{
            default_type text/plain;
            gzip on;
            gzip_types text/plain;
            gzip_min_length 0;
            {static}
        }}
    }}
}}
"""


def pinning(enabled: bool) -> tuple[list[str], list[str]]:
    """Command prefixes (server, client): nginx on CPU 0, the client on CPU 1, when
    taskset exists and this process may use both CPUs; else none."""
    taskset = shutil.which("taskset")
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    if not enabled or taskset is None or not {0, 1} <= allowed:
        return [], []
    return [taskset, "-c", "0"], [taskset, "-c", "1"]


class Nginx:
    def __init__(self, binary: str, tmp: Path, conf: str, prefix: list[str] | None = None) -> None:
        self.binary, self.tmp = binary, tmp
        self.prefix = prefix or []
        self.conf = tmp / "nginx.conf"
        self.conf.write_text(conf)
        self.proc: subprocess.Popen[bytes] | None = None

    def cmd(self, *extra: str) -> list[str]:
        return [
            self.binary,
            "-c",
            str(self.conf),
            "-p",
            str(self.tmp),
            "-e",
            str(self.tmp / "error.log"),
            *extra,
        ]

    def start(self, ports: list[int]) -> None:
        test = subprocess.run(self.cmd("-t"), capture_output=True, text=True, timeout=30)
        if test.returncode != 0:
            raise SystemExit(f"nginx config test failed:\n{test.stderr}")
        self.proc = subprocess.Popen(
            [*self.prefix, *self.cmd()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 15
        for port in ports:
            while True:
                if self.proc.poll() is not None:
                    raise SystemExit(f"nginx exited: {self.error_log()}")
                with socket.socket() as s:
                    s.settimeout(0.5)
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not listen on {port}: {self.error_log()}")
                time.sleep(0.05)

    def error_log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.tmp / "error.log").read_text()[-2000:]
        return ""

    def stop(self) -> None:
        """Stop the master by its PID (it stops its worker); SIGKILL if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# -- raw checks of what nginx really sends --------------------------------------------


def raw_get(
    port: int, path: str, extra: bytes = b"", ctx: ssl.SSLContext | None = None
) -> tuple[bytes, bytes]:
    """One GET with Connection: close, read to EOF: (head, raw body bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        s: socket.socket = ctx.wrap_socket(sock, server_hostname="127.0.0.1") if ctx else sock
        s.sendall(
            b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s\r\n"
            % (path.encode(), extra)
        )
        parts = []
        while data := s.recv(1 << 20):
            parts.append(data)
    raw = b"".join(parts)
    head, _, body = raw.partition(b"\r\n\r\n")
    return head, body


def warm(port: int, path: str) -> int:
    """GET ``path`` once, reading it to the end into a reused buffer: the server's page
    cache then holds the file.  Without it the first client to stream /huge in a run
    (rawhttp, first in every round) waited about 0.5 s on nginx reading the sparse file
    from disk: 1.5 GB/s instead of 9-10."""
    buf = bytearray(1 << 20)
    total = 0
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(
            b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path.encode()
        )
        while n := s.recv_into(buf):
            total += n
    return total


def dechunk(body: bytes) -> tuple[bytes, list[int]]:
    out, sizes, pos = [], [], 0
    while True:
        eol = body.index(b"\r\n", pos)
        size = int(body[pos:eol].split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            if body[pos:] != b"\r\n":
                raise ValueError(f"unexpected bytes after the last chunk: {body[pos : pos + 40]!r}")
            return b"".join(out), sizes
        out.append(body[pos : pos + size])
        sizes.append(size)
        if body[pos + size : pos + size + 2] != b"\r\n":
            raise ValueError("chunk data not followed by CRLF")
        pos += size + 2


def require(ok: bool, detail: object) -> None:
    if not ok:
        raise RuntimeError(f"server check failed: {detail!r}"[:2000])


def check_server(http_port: int, tls_port: int, ca: Path, files: dict[str, Any]) -> dict[str, Any]:
    checks: dict[str, Any] = {}
    head, body = raw_get(http_port, "/small")
    require(head.startswith(b"HTTP/1.1 200") and body == SMALL_BODY, (head, body))
    checks["small"] = "200, 12 bytes"

    head, body = raw_get(http_port, "/chunked")
    lower = head.lower()
    require(head.startswith(b"HTTP/1.1 200"), head)
    require(b"\r\ntransfer-encoding: chunked" in lower and b"content-length" not in lower, head)
    data, sizes = dechunk(body)
    require(len(data) == CHUNKED_SIZE, len(data))
    require(hashlib.sha256(data).hexdigest() == files["chunked_sha256"], "chunked body differs")
    checks["chunked"] = {
        "transfer_encoding": "chunked",
        "decoded_bytes": len(data),
        "complete_and_identical": True,
        "chunks": len(sizes),
        "chunk_size_median": statistics.median(sizes),
        "chunk_size_max": max(sizes),
    }
    del data, body

    head, body = raw_get(http_port, "/gzip", b"Accept-Encoding: gzip\r\n")
    lower = head.lower()
    require(b"\r\ncontent-encoding: gzip" in lower, head)
    if b"transfer-encoding: chunked" in lower:
        body, _ = dechunk(body)
    decoded = gzip.decompress(body)
    require(len(decoded) == GZIP_SIZE, len(decoded))
    checks["gzip"] = {
        "wire_bytes": len(body),
        "decoded_bytes": len(decoded),
        "framing": "chunked" if b"transfer-encoding: chunked" in lower else "content-length",
    }

    for path, size in (("/big", BIG_SIZE), ("/huge", HUGE_SIZE)):
        checks[path.strip("/") + "_warmed_bytes"] = warm(http_port, path)
        with socket.create_connection(("127.0.0.1", http_port), timeout=10) as s:
            s.sendall(
                b"HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path.encode()
            )
            head = s.recv(65536)
        require(b"\r\nContent-Length: %d\r\n" % size in head, head)
        checks[path.strip("/")] = f"Content-Length: {size}"

    ctx = ssl.create_default_context(cafile=str(ca))
    head, body = raw_get(tls_port, "/small", ctx=ctx)
    require(head.startswith(b"HTTP/1.1 200") and body == SMALL_BODY, (head, body))
    checks["tls"] = "certificate for 127.0.0.1 verified with the CA"
    return checks


# -- machine info ---------------------------------------------------------------------


def machine_info(nginx: str) -> dict[str, Any]:
    from importlib import metadata

    versions = {}
    for pkg in ("rawhttp", "aiohttp", "httpx", "httpcore", "urllib3", "trustme"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    nv = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10)
    versions["nginx"] = nv.stderr.strip().split("/")[-1]
    versions["openssl"] = ssl.OPENSSL_VERSION
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    git: dict[str, Any] = {}
    with contextlib.suppress(Exception):  # read-only git queries
        git["commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", "rawhttp"],
            cwd=ROOT,
            capture_output=True,
            timeout=10,
        )
        git["rawhttp_uncommitted_changes"] = diff.returncode == 1
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "loadavg_at_start": os.getloadavg(),
        "python": sys.version,
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "packages": versions,
        "git": git,
    }


# -- running and reporting ------------------------------------------------------------


def measurement_cmd(
    client: str, scenario: str, spec: dict[str, Any], base: dict[str, str], ca: Path, budget: float
) -> list[str]:
    origin = base["https" if spec["tls"] else "http"]
    cmd = [sys.executable, str(HERE / "clients.py"), client, scenario, origin + spec["path"]]
    if "reps" in spec:
        cmd.append(origin + "/small")  # opens the connection before timing
        cmd += ["--reps", str(spec["reps"])]
    else:
        cmd += ["--n", str(spec["n"]), "--warmup", str(spec["warmup"])]
    cmd += ["--conc", str(spec["conc"]), "--size", str(spec["size"])]
    if spec["tls"]:
        cmd += ["--ca", str(ca)]
    cmd += ["--budget", str(max(10.0, budget))]
    return cmd


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "MiB":
        return f"{value:.1f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def median_or_none(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )


@contextlib.contextmanager
def terminate_as_exception() -> Iterator[None]:
    """SIGTERM/SIGHUP unwind like Ctrl-C, so nginx is always stopped in `finally`."""

    def raise_interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    old = {sig: signal.signal(sig, raise_interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def per_cpu_second(rec: dict[str, Any]) -> float | None:
    """The measurement's throughput per second of client CPU time (not for rss)."""
    cpu = rec.get("cpu_seconds")
    if rec["scenario"] in MEMORY or not cpu or rec.get("value") is None or "error" in rec:
        return None
    if rec.get("unit") == "MB/s":
        return float(rec["bytes"]) / cpu / 1e6
    return float(rec["count"]) / cpu


def paired_ratios(
    runs: list[dict[str, Any]], me: str, peers: list[str]
) -> dict[str, dict[str, float | None]]:
    """Per scenario and peer: the median over rounds of me/peer within each round.
    Runs of one round are minutes apart at most, so load that drifts over the run
    moves both sides of a ratio alike (used for the blocking API against async)."""
    good = {
        (r["scenario"], r["client"], r["round"]): float(r["value"])
        for r in runs
        if r.get("value") is not None and "error" not in r and r["scenario"] not in MEMORY
    }
    per_round: dict[str, dict[str, list[float]]] = {}
    for scenario, client, rnd in sorted(good):
        if client != me:
            continue
        for peer in peers:
            theirs = good.get((scenario, peer, rnd))
            if theirs:
                mine = good[(scenario, me, rnd)]
                per_round.setdefault(scenario, {}).setdefault(peer, []).append(mine / theirs)
    return {
        scenario: {peer: round(statistics.median(v), 3) for peer, v in by_peer.items()}
        for scenario, by_peer in per_round.items()
    }


def ratios_of(
    medians: dict[str, dict[str, float | None]], me: str = "rawhttp", peers: list[str] = PEERS
) -> dict[str, dict[str, float | None]]:
    ratios: dict[str, dict[str, float | None]] = {}
    for scenario, by_client in medians.items():
        if me not in by_client:
            continue
        mine = by_client[me]
        ratios[scenario] = {}
        for peer in peers:
            if peer in by_client:
                theirs = by_client[peer]
                floor = RSS_RATIO_MIN_MIB if scenario in MEMORY else 0.0
                if mine is not None and theirs is not None and theirs > floor:
                    ratios[scenario][peer] = round(mine / theirs, 3)
                else:
                    ratios[scenario][peer] = None
    return ratios


def summarize(
    runs: list[dict[str, Any]], specs: dict[str, Any], clients: list[str]
) -> dict[str, Any]:
    medians: dict[str, dict[str, float | None]] = {}
    per_cpu: dict[str, dict[str, float | None]] = {}
    rss_extra: dict[str, dict[str, float | None]] = {"stream_mbps": {}, "peak_mib": {}}
    notes: dict[str, dict[str, str]] = {}
    for scenario in specs:
        medians[scenario], per_cpu[scenario] = {}, {}
        for client in clients:
            recs = [r for r in runs if r["scenario"] == scenario and r["client"] == client]
            good = [r for r in recs if r.get("value") is not None and "error" not in r]
            medians[scenario][client] = median_or_none([r["value"] for r in good])
            if scenario == "rss":
                rss_extra["stream_mbps"][client] = median_or_none([r["mbps"] for r in good])
                rss_extra["peak_mib"][client] = median_or_none(
                    [r["rss_peak_mib"] for r in good if r.get("rss_peak_mib") is not None]
                )
            elif scenario not in MEMORY:
                cpu_vals = [v for r in good if (v := per_cpu_second(r)) is not None]
                per_cpu[scenario][client] = median_or_none(cpu_vals)
            errs = [r["error"] for r in recs if "error" in r]
            na = [r["note"] for r in recs if "note" in r]
            if errs:
                notes.setdefault(scenario, {})[client] = f"{len(errs)} failed: {errs[0]}"
            elif na:
                notes.setdefault(scenario, {})[client] = na[0]
    for scenario in MEMORY:
        per_cpu.pop(scenario, None)
    return {
        "medians": medians,
        "ratios_rawhttp_over_peer": ratios_of(medians),
        "ratios_sync_over_peer": ratios_of(medians, SYNC, SYNC_PEERS),
        "ratios_sync_over_peer_paired": paired_ratios(runs, SYNC, SYNC_PEERS),
        "per_client_cpu_second": per_cpu,
        "ratios_per_client_cpu_second": ratios_of(per_cpu),
        "rss_extra": rss_extra if "rss" in specs else {},
        "notes": notes,
    }


def fmt_ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}"


def ratio_rows(
    ratios: dict[str, dict[str, float | None]],
    medians: dict[str, dict[str, float | None]],
    peers: list[str],
) -> list[list[str]]:
    rows = []
    for s, by_peer in ratios.items():
        cells = []
        for p in peers:
            r = by_peer.get(p)
            cell = "n/a" if r is None else f"{r:.2f}"
            if s in MEMORY:  # tiny denominators: show the raw MiB as well
                mine, theirs = medians[s].get("rawhttp"), medians[s].get(p)
                cell += f" ({fmt(mine, 'MiB')}/{fmt(theirs, 'MiB')})"
            cells.append(cell)
        rows.append([s + (" MiB, lower=better" if s in MEMORY else ""), *cells])
    return rows


def print_report(
    summary: dict[str, Any], specs: dict[str, Any], clients: list[str], rounds: int
) -> None:
    medians = summary["medians"]
    header = ["scenario", "unit", *clients]
    rows = [[s, UNITS[s], *[fmt(medians[s][c], UNITS[s]) for c in clients]] for s in specs]
    print_table(
        f"Medians over {rounds} round(s), wall clock (higher is better; rss: MiB of peak RSS growth, lower is better)",
        header,
        rows,
    )
    rss = summary["rss_extra"]
    if rss:
        for key, label, unit in (
            ("stream_mbps", "rss run throughput, MB/s", "MB/s"),
            ("peak_mib", "rss run peak RSS of the process, MiB", "MiB"),
        ):
            vals = ", ".join(f"{c} {fmt(v, unit)}" for c, v in rss[key].items())
            print(f"{label}: {vals}")
    peers = [p for p in PEERS if p in clients]
    if summary["ratios_rawhttp_over_peer"]:
        print_table(
            "Ratios rawhttp/peer of the medians (>1: rawhttp faster; rss: <1 means rawhttp grew less)",
            ["scenario", *[f"rawhttp/{p}" for p in peers]],
            ratio_rows(summary["ratios_rawhttp_over_peer"], medians, peers),
        )
        print_table(
            "Same ratios per second of client CPU time (less sensitive to other load; >1: rawhttp cheaper)",
            ["scenario", *[f"rawhttp/{p}" for p in peers]],
            ratio_rows(summary["ratios_per_client_cpu_second"], medians, peers),
        )
    sync_peers = [p for p in SYNC_PEERS if p in clients]
    if SYNC in clients and sync_peers and summary["ratios_sync_over_peer"]:
        paired = summary["ratios_sync_over_peer_paired"]
        print_table(
            f"Blocking API: {SYNC}/peer, ratio of the medians and (in brackets) median of"
            f" the per-round ratios (>1: the blocking API faster; streaming target:"
            f" {SYNC}/rawhttp >= {SYNC_STREAM_TARGET})",
            ["scenario", *[f"{SYNC}/{p}" for p in sync_peers]],
            [
                [
                    sc,
                    *[
                        f"{fmt_ratio(by_peer.get(p))} ({fmt_ratio(paired.get(sc, {}).get(p))})"
                        for p in sync_peers
                    ],
                ]
                for sc, by_peer in summary["ratios_sync_over_peer"].items()
                if sc not in MEMORY
            ],
        )
    for s, by_client in summary["notes"].items():
        for c, note in by_client.items():
            print(f"note: {s} {c}: {note}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=3, help="rounds of interleaved runs (default 3)")
    p.add_argument("--only", help=f"comma-separated scenarios (default all: {','.join(SCENARIOS)})")
    p.add_argument("--clients", help=f"comma-separated clients (default all: {','.join(CLIENTS)})")
    p.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    p.add_argument("--no-setup", action="store_true", help="skip bench/setup.sh")
    p.add_argument(
        "--timeout", type=float, default=300.0, help="seconds per client process (default 300)"
    )
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument(
        "--no-heap-trim",
        action="store_true",
        help="run every client with glibc's heap trimming off (MALLOC_TRIM_THRESHOLD_,"
        " MALLOC_MMAP_THRESHOLD_): see 'Page faults' in bench/README.md",
    )
    p.add_argument(
        "--uvloop",
        action="store_true",
        help="also run the uvloop variant of each chosen async client (e.g. rawhttp-uvloop)",
    )
    p.add_argument(
        "--no-pin", action="store_true", help="do not pin nginx to CPU 0 and clients to CPU 1"
    )
    p.add_argument(
        "--targets",
        action="store_true",
        help="run what issue 15's targets need, and print each target with its ratio",
    )
    args = p.parse_args()

    def pick(text: str | None, allowed: Sequence[str], what: str) -> list[str]:
        if not text:
            return list(allowed)
        chosen = [x.strip() for x in text.split(",") if x.strip()]
        bad = [x for x in chosen if x not in allowed]
        if bad:
            p.error(f"unknown {what}: {', '.join(bad)} (choose from {', '.join(allowed)})")
        return [x for x in allowed if x in chosen]

    args.scenarios = pick(args.only, SCENARIOS, "scenario")
    if args.clients:
        args.client_list = pick(args.clients, CLIENTS, "client")
    else:
        args.client_list = list(DEFAULT_CLIENTS)
    if args.uvloop:  # the uvloop variant of every chosen async client, beside it
        for c in list(args.client_list):
            if c in UVLOOP_CLIENTS and c + UVLOOP_SUFFIX not in args.client_list:
                args.client_list.append(c + UVLOOP_SUFFIX)
        args.client_list = [c for c in CLIENTS if c in args.client_list]
    args.plan = None
    if args.targets:
        if args.only or args.clients or args.uvloop:
            p.error("--targets chooses its own scenarios and clients")
        args.plan = target_plan()
        args.scenarios = list(args.plan)
        args.client_list = [c for c in CLIENTS if any(c in cs for cs in args.plan.values())]
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    return args


def main() -> int:
    args = parse_args()
    started = dt.datetime.now(dt.UTC)
    t_start = time.monotonic()
    if not args.no_setup:
        print("setup: bench/setup.sh", flush=True)
        subprocess.run(["bash", str(HERE / "setup.sh"), sys.executable], check=True, timeout=900)
    import trustme  # installed by setup.sh

    binary = nginx_binary()
    built = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10).stderr
    gzip_static = "--with-http_gzip_static_module" in built
    stub_status = "--with-http_stub_status_module" in built

    specs = {}
    for name in args.scenarios:
        specs[name] = dict(SCENARIO_SPEC[name], **(QUICK[name] if args.quick else {}))

    tmp = Path(tempfile.mkdtemp(prefix="rawhttp-bench-"))
    server: Nginx | None = None
    runs: list[dict[str, Any]] = []
    try:
        with terminate_as_exception():
            print(f"files: {tmp}", flush=True)
            files = make_files(tmp)
            ca = trustme.CA()
            ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
                str(tmp / "server.pem")
            )
            ca_path = tmp / "ca.pem"
            ca.cert_pem.write_to_path(str(ca_path))
            ports = {"http": free_port(), "https": free_port()}
            while ports["https"] == ports["http"]:
                ports["https"] = free_port()
            server_pin, client_pin = pinning(not args.no_pin)
            print(f"pinning: nginx {server_pin or 'unpinned'}, clients {client_pin or 'unpinned'}")
            server = Nginx(
                binary,
                tmp,
                nginx_config(
                    tmp, files["docroot"], ports["http"], ports["https"], gzip_static, stub_status
                ),
                server_pin,
            )
            server.start(list(ports.values()))
            print(
                f"nginx: pid {server.proc.pid if server.proc else '?'}, ports {ports}", flush=True
            )
            checks = check_server(ports["http"], ports["https"], ca_path, files)
            print(f"server checks: {json.dumps(checks)}", flush=True)
            base = {
                "http": f"http://127.0.0.1:{ports['http']}",
                "https": f"https://127.0.0.1:{ports['https']}",
            }
            info = machine_info(binary)

            client_env = None
            if args.no_heap_trim:
                client_env = dict(os.environ, **NO_HEAP_TRIM)

            def wanted(scenario: str, client: str) -> bool:
                if args.plan is not None:
                    return client in args.plan.get(scenario, [])
                only = STREAM_ONLY.get(client.removesuffix(UVLOOP_SUFFIX))
                return only is None or scenario in only

            pairs = [(sc, c) for sc in specs for c in args.client_list if wanted(sc, c)]
            total = args.rounds * len(pairs)
            done = 0
            for rnd in range(1, args.rounds + 1):
                for scenario, client in pairs:
                    spec = specs[scenario]
                    done += 1
                    cmd = client_pin + measurement_cmd(
                        client, scenario, spec, base, ca_path, args.timeout - 30
                    )
                    before = server_counters(ports["http"]) if stub_status else None
                    t0 = time.monotonic()
                    code, out, err = run_bounded(cmd, args.timeout, client_env)
                    wall = time.monotonic() - t0
                    after = server_counters(ports["http"]) if stub_status else None
                    rec: dict[str, Any] = {"round": rnd, "scenario": scenario, "client": client}
                    add_result(rec, code, out, err, args.timeout)
                    rec["wall_seconds"] = round(wall, 3)
                    if before and after:  # minus the `after` query itself
                        rec["server_connections"] = after[0] - before[0] - 1
                        rec["server_requests"] = after[1] - before[1] - 1
                    if err.strip() and "error" in rec:
                        rec["stderr_tail"] = err.strip()[-1000:]
                    runs.append(rec)
                    shown = (
                        rec.get("error")
                        or rec.get("note")
                        or f"{fmt(rec.get('value'), rec.get('unit', ''))} {rec.get('unit', '')}"
                    )
                    conns = rec.get("server_connections", "?")
                    costs = ""
                    if rec.get("minor_faults") is not None and rec.get("bytes"):
                        mb = rec["bytes"] / 1e6
                        costs = (
                            f", per MB: user {rec['user_seconds'] / mb * 1e3:.3f} ms"
                            f" sys {rec['sys_seconds'] / mb * 1e3:.3f} ms"
                            f" {rec['minor_faults'] / mb:.0f} page faults"
                        )
                    print(
                        f"[{done:3d}/{total}] round {rnd} {scenario:8s} {client:8s} {shown}"
                        f"  ({wall:.1f} s, {conns} connections{costs})",
                        flush=True,
                    )
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    summary = summarize(runs, specs, args.client_list)
    print_report(summary, specs, args.client_list, args.rounds)
    targets = evaluate_targets(summary["medians"], runs)
    if args.targets:
        print_targets(targets)
    units = {s: UNITS[s] for s in specs}

    RESULTS.mkdir(exist_ok=True)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_seconds": round(time.monotonic() - t_start, 1),
        "command": [Path(sys.executable).name, *sys.argv],
        "options": {
            "rounds": args.rounds,
            "scenarios": list(specs),
            "clients": args.client_list,
            "quick": args.quick,
            "timeout": args.timeout,
            "client_env": NO_HEAP_TRIM if args.no_heap_trim else {},
            "pinning": {"server": server_pin, "client": client_pin},
        },
        "machine": info,
        "server": {
            "ports": ports,
            "gzip_static": gzip_static,
            "stub_status": stub_status,
            "checks": checks,
        },
        "scenarios": {s: dict(specs[s], unit=units[s], what=WHAT[s]) for s in specs},
        **summary,
        "targets": targets,
        "loadavg_at_end": os.getloadavg(),
        "runs": runs,
    }
    out = RESULTS / "latest.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)} ({time.monotonic() - t_start:.0f} s)")
    failed = sum("error" in r for r in runs)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as exc:
        print(
            f"\ninterrupted ({exc or 'Ctrl-C'}): nginx stopped, no results written", file=sys.stderr
        )
        sys.exit(130)
