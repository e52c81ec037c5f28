"""What could a receive path other than asyncio streams reach?  A throughput ceiling.

    python bench/ceiling.py [--rounds N] [--reps N] [--only chunked,big]
                            [--clients a,b,...] [--heap-trim default|off|both]
                            [--urls CHUNKED_URL BIG_URL [--warmup-url URL]]
                            [--timeout S] [--json PATH]

A minimal HTTP/1.1 GET client built on ``asyncio.BufferedProtocol`` (no
StreamReader): the transport receives straight into one preallocated 1 MiB
bytearray (``get_buffer()`` hands out a memoryview of its free tail), and
``buffer_updated()`` parses in place -- the head once, then chunk-size lines and
data by memoryview slicing -- and queues the body as pieces of at most 64 KiB for a
pull API (``await read()``; b"" at the end).  Flow control: the transport is
paused while the consumer holds buffer space the next receive would need (or, in
``eager`` mode, while more than 2 MiB of copied pieces wait) and resumed when it
has caught up.  Three ways to hand out a piece:

  ceiling-view   a memoryview into the receive buffer, valid until the next read()
                 (zero copies after the kernel's)
  ceiling-bytes  bytes, copied from the buffer when the consumer pulls the piece
                 (one copy, at most one piece alive: the allocator reuses one block)
  ceiling-eager  bytes, copied in buffer_updated() and queued (one copy, up to a
                 receive's worth of pieces alive at once)

Every body's byte count is checked, and its first and last 16 bytes against the
file; before the timed rounds each ceiling mode streams each body once with a
SHA-256 of everything it handed out, compared with the file's.

It runs side by side, interleaved, each measurement in its own process, against
the same nginx: the three ceiling modes, aiohttp (``iter_chunked(65536)``), the
floor (a bare StreamReader loop) and rawhttp through ``bench/clients.py`` exactly
as ``bench/run.py`` runs them, plus two references that are not Python HTTP
clients: ``wire`` (a blocking socket reading the raw response with ``recv_into``
until the server closes: no decoding at all, the most the server and the kernel
deliver to one Python process) and ``curl`` (libcurl, decoding chunked; its CPU
time is the whole process's).  Without ``--urls`` it starts and stops its own
nginx with bench/run.py's files and config (nginx stopped by its PID, however
the run ends); with ``--urls`` it measures against a running server, fetching
each body once first to learn what to expect.

``--heap-trim both`` runs every client a second time per round with glibc's heap
trimming off (``MALLOC_TRIM_THRESHOLD_``/``MALLOC_MMAP_THRESHOLD_`` = 32 MiB, as
``bench/run.py --no-heap-trim``): see "Page faults" in bench/README.md.

Internal: ``python bench/ceiling.py --measure MODE SCENARIO URL WARMUP_URL ...``
is one measurement (MODE ceiling-view, ceiling-bytes, ceiling-eager or wire); it
prints one JSON line with the same fields as bench/clients.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ceiling_protocol import (  # bench/ceiling_protocol.py: this script's folder
    BUFFER,
    CEILING_MODES,
    HEAD_LIMIT,
    PIECE,
    CeilingProtocol,
)

HERE = Path(__file__).resolve().parent
EDGE = 16  # first/last bytes checked in every timed body

OWN = (*CEILING_MODES, "wire")
VIA_CLIENTS_PY = ("aiohttp", "floor", "rawhttp")
ALL_CLIENTS = (*CEILING_MODES, "aiohttp", "floor", "rawhttp", "wire", "curl")
SCENARIOS = ("chunked", "big")


async def ceiling_measure(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    u, w = urlsplit(args.url), urlsplit(args.warmup_url)
    host, port = u.hostname or "127.0.0.1", u.port or 80
    transport, proto = await loop.create_connection(
        lambda: CeilingProtocol(args.mode, args.buffer, args.piece), host, port
    )
    out: dict[str, Any] = {}
    try:
        async with asyncio.timeout(args.budget):
            # warm-up: open the connection and fetch the small resource, as clients.py does
            proto.request(host, port, w.path or "/")
            small = 0
            for _ in range(HEAD_LIMIT):  # a small resource: a piece or two
                p = await proto.read()
                if not p:
                    break
                small += len(p)
            else:
                raise AssertionError("warm-up: the warm-up resource is not small")
            if proto.status != 200 or not small:
                raise AssertionError(f"warm-up: status {proto.status}, {small} bytes")

            size, piece_max = args.size, args.piece
            want_head, want_tail = bytes.fromhex(args.head), bytes.fromhex(args.tail)
            path = u.path or "/"
            total = 0
            receives0 = proto.receives
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(args.reps):
                proto.request(host, port, path)
                read = proto.read
                sha = hashlib.sha256() if args.sha256 else None
                n = 0
                p = await read()
                if proto.status != 200:
                    raise AssertionError(f"status {proto.status}")
                first = bytes(p[:EDGE])
                last: Any = b""
                # bounded: every piece but the last is at least one byte, and n <= size
                while p:
                    k = len(p)
                    n += k
                    if n > size or k > piece_max:
                        raise AssertionError(f"piece of {k} bytes, {n} so far: more than expected")
                    if sha is not None:
                        sha.update(p)
                    last = p if k >= EDGE else bytes(last[-EDGE:]) + bytes(p)
                    p = await read()
                if n != size:
                    raise AssertionError(f"streamed {n} bytes, expected {size}")
                if len(first) < EDGE:
                    raise AssertionError("first piece shorter than the checked edge")
                got_tail = bytes(last[-EDGE:])  # no receive happened since: still valid
                if first != want_head or got_tail != want_tail:
                    raise AssertionError(f"edges differ: {first!r}..{got_tail!r}")
                if sha is not None and sha.hexdigest() != args.sha256:
                    raise AssertionError("SHA-256 of the streamed body differs from the file's")
                total += n
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            out["receives"] = proto.receives - receives0
    finally:
        transport.close()
    return _record(out, secs, cpu, r0, r1, total, args)


def _record(
    out: dict[str, Any],
    secs: float,
    cpu: float,
    r0: resource.struct_rusage,
    r1: resource.struct_rusage,
    total: int,
    args: argparse.Namespace,
) -> dict[str, Any]:
    out.update(
        value=total / secs / 1e6,
        seconds=secs,
        cpu_seconds=cpu,
        user_seconds=round(r1.ru_utime - r0.ru_utime, 4),
        sys_seconds=round(r1.ru_stime - r0.ru_stime, 4),
        minor_faults=r1.ru_minflt - r0.ru_minflt,
        count=args.reps,
        bytes=total,
        loadavg=os.getloadavg(),
    )
    return out


def wire_measure(args: argparse.Namespace) -> dict[str, Any]:
    """Raw bytes only, not an HTTP client: one keep-alive connection (opened with the
    warm-up GET, as the clients do), ``recv_into`` a reused 1 MiB buffer until the
    body's end: Content-Length reached, or for chunked the last-chunk marker
    ``\\r\\n0\\r\\n\\r\\n`` at the end of a receive (safe here: the text body has no CRLF;
    the ceiling modes' SHA-256 pass checks the framing properly).  What the server
    and the kernel deliver to one Python process that does nothing with the bytes."""
    u, w = urlsplit(args.url), urlsplit(args.warmup_url)
    host, port = u.hostname or "127.0.0.1", u.port or 80

    def req(path: str) -> bytes:
        return b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path.encode(), host.encode(), port)

    buf = bytearray(args.buffer)
    mv = memoryview(buf)
    dl = time.perf_counter() + args.budget
    with socket.create_connection((host, port), timeout=30) as s:
        s.sendall(req(w.path or "/"))
        n = s.recv_into(mv)  # /small: one receive on loopback
        if not buf.startswith(b"HTTP/1.1 200 ") or buf.find(b"\r\n\r\n", 0, n) < 0:
            raise AssertionError(f"warm-up: {bytes(mv[:60])!r}")
        body_total, wire_total = 0, 0
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.reps):
            s.sendall(req(u.path or "/"))
            n = s.recv_into(mv)
            head_end = buf.find(b"\r\n\r\n", 0, n)
            if not buf.startswith(b"HTTP/1.1 200 ") or head_end < 0:
                raise AssertionError(f"bad head {bytes(mv[:60])!r}")
            want = head_end + 4 + args.size  # Content-Length: exactly this much
            got = n
            tail = bytes(mv[max(0, n - 7) : n])
            # bounded: a receive is at least one byte, and past the body plus framing it fails
            for _ in range(args.size * 2):
                if args.scenario == "chunked":
                    if tail == b"\r\n0\r\n\r\n":
                        break
                elif got >= want:
                    break
                n = s.recv_into(mv)
                if not n:
                    raise AssertionError("connection closed mid-body")
                got += n
                tail = (tail + bytes(mv[max(0, n - 7) : n]))[-7:]
                if got > args.size * 1.01 + HEAD_LIMIT or time.perf_counter() > dl:
                    raise AssertionError("more bytes than expected, or past the time budget")
            body = got - head_end - 4
            if (args.scenario == "chunked" and body < args.size) or (
                args.scenario == "big" and body != args.size
            ):
                raise AssertionError(f"got {body} body bytes on the wire, expected {args.size}")
            wire_total += got
            body_total += args.size
        secs, cpu = time.perf_counter() - t0, time.process_time() - c0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    # MB/s of body bytes (chunk framing crosses the wire but is not counted in the rate)
    return _record({"wire_bytes": wire_total}, secs, cpu, r0, r1, body_total, args)


def measure_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="ceiling.py --measure")
    p.add_argument("mode", choices=OWN)
    p.add_argument("scenario", choices=SCENARIOS)
    p.add_argument("url")
    p.add_argument("warmup_url")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--head", required=True, help="hex of the body's first 16 bytes")
    p.add_argument("--tail", required=True, help="hex of the body's last 16 bytes")
    p.add_argument("--sha256", help="check a SHA-256 of every byte handed out (verify pass)")
    p.add_argument("--buffer", type=int, default=BUFFER)
    p.add_argument("--piece", type=int, default=PIECE)
    p.add_argument("--budget", type=float, default=120.0)
    args = p.parse_args(argv)
    result: dict[str, Any] = {
        "client": args.mode,
        "scenario": args.scenario,
        "unit": "MB/s",
        "value": None,
    }
    code = 0
    try:
        if args.mode == "wire":
            result.update(wire_measure(args))
        else:
            result.update(asyncio.run(ceiling_measure(args)))
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        code = 1
    print(json.dumps(result), flush=True)
    return code


# -- the driver -------------------------------------------------------------------------


def expected_from_files(docroot: Path) -> dict[str, dict[str, Any]]:
    exp = {}
    for scenario, name in (("chunked", "chunked-data.txt"), ("big", "big")):
        data = (docroot / name).read_bytes()
        exp[scenario] = {
            "size": len(data),
            "head": data[:EDGE].hex(),
            "tail": data[-EDGE:].hex(),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    return exp


def expected_from_urls(urls: dict[str, str]) -> dict[str, dict[str, Any]]:
    import run  # bench/run.py

    exp = {}
    for scenario, url in urls.items():
        u = urlsplit(url)
        head, body = run.raw_get(u.port or 80, u.path or "/")
        if b"transfer-encoding: chunked" in head.lower():
            body, _ = run.dechunk(body)
        if not head.startswith(b"HTTP/1.1 200"):
            raise SystemExit(f"{url}: {head[:60]!r}")
        exp[scenario] = {
            "size": len(body),
            "head": body[:EDGE].hex(),
            "tail": body[-EDGE:].hex(),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
    return exp


def own_cmd(
    mode: str,
    scenario: str,
    url: str,
    warm: str,
    exp: dict[str, Any],
    reps: int,
    budget: float,
    verify: bool,
) -> list[str]:
    cmd = [sys.executable, str(HERE / "ceiling.py"), "--measure", mode, scenario, url, warm]
    cmd += [
        "--reps",
        str(reps),
        "--size",
        str(exp["size"]),
        "--head",
        exp["head"],
        "--tail",
        exp["tail"],
    ]
    cmd += ["--budget", str(budget)]
    if verify:
        cmd += ["--sha256", exp["sha256"]]
    return cmd


def server_pids(master: int | None) -> list[int]:
    """nginx's worker processes (children of the master we started), from /proc."""
    if master is None:
        return []
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(entry))
    return pids


def server_cpu(pids: list[int]) -> float:
    """user + system CPU seconds of these processes so far (clock ticks, 10 ms)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def run_one(
    client: str,
    scenario: str,
    url: str,
    warm: str,
    exp: dict[str, Any],
    args: argparse.Namespace,
    env: dict[str, str] | None,
    workers: list[int],
) -> dict[str, Any]:
    import run  # bench/run.py: run_bounded kills the process group past the timeout

    budget = max(10.0, args.timeout - 30)
    rec: dict[str, Any] = {"client": client, "scenario": scenario}
    if client in OWN:
        cmd = own_cmd(client, scenario, url, warm, exp, args.reps, budget, False)
    elif client in VIA_CLIENTS_PY:
        cmd = [sys.executable, str(HERE / "clients.py"), client, scenario, url, warm]
        cmd += [
            "--reps",
            str(args.reps),
            "--conc",
            "1",
            "--size",
            str(exp["size"]),
            "--budget",
            str(budget),
        ]
    else:  # curl: one process, the body fetched reps times over one connection
        cmd = ["curl", "-sS", "--fail", "-w", "%{size_download} %{time_total}\\n"]
        for _ in range(args.reps):
            cmd += ["-o", "/dev/null", url]
    ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    s0 = server_cpu(workers)
    code, out, err = run.run_bounded(cmd, args.timeout, env)
    if workers:  # the whole client process, warm-up included (one small GET)
        rec["server_cpu_seconds"] = round(server_cpu(workers) - s0, 3)
    ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if client == "curl":
        try:
            rows = [ln.split() for ln in out.splitlines() if ln.strip()]
            sizes = [int(float(a)) for a, _ in rows]
            secs = sum(float(b) for _, b in rows)
            if len(rows) != args.reps or any(s != exp["size"] for s in sizes):
                raise AssertionError(f"curl sizes {sizes}, expected {args.reps} x {exp['size']}")
            rec.update(
                value=sum(sizes) / secs / 1e6,
                seconds=secs,
                user_seconds=round(ch1.ru_utime - ch0.ru_utime, 4),
                sys_seconds=round(ch1.ru_stime - ch0.ru_stime, 4),
                minor_faults=ch1.ru_minflt - ch0.ru_minflt,
                bytes=sum(sizes),
                cpu_whole_process=True,
            )
            rec["cpu_seconds"] = rec["user_seconds"] + rec["sys_seconds"]
        except Exception as exc:
            rec["error"] = f"{type(exc).__name__}: {exc}; {err.strip()[-300:]}"
        return rec
    run.add_result(rec, code, out, err, args.timeout)
    return rec


def summarize(
    runs: list[dict[str, Any]], clients: list[str], scenarios: list[str], envs: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for env in envs:
        for scenario in scenarios:
            base = None
            for client in clients:
                good = [
                    r
                    for r in runs
                    if r["env"] == env
                    and r["scenario"] == scenario
                    and r["client"] == client
                    and "error" not in r
                    and r.get("value")
                ]
                if not good:
                    rows.append({"env": env, "scenario": scenario, "client": client, "n": 0})
                    continue
                mb = [r["bytes"] / 1e6 for r in good]
                row = {
                    "env": env,
                    "scenario": scenario,
                    "client": client,
                    "n": len(good),
                    "mbps": statistics.median(r["value"] for r in good),
                    "mbps_min": min(r["value"] for r in good),
                    "mbps_max": max(r["value"] for r in good),
                    "cpu_s": statistics.median(r["cpu_seconds"] for r in good),
                    "user_s": statistics.median(r["user_seconds"] for r in good),
                    "sys_s": statistics.median(r["sys_seconds"] for r in good),
                    "faults_per_mb": statistics.median(
                        r["minor_faults"] / m for r, m in zip(good, mb, strict=True)
                    ),
                    "mb_per_cpu_s": statistics.median(
                        r["bytes"] / 1e6 / r["cpu_seconds"] for r in good
                    ),
                }
                busy = [
                    r["server_cpu_seconds"] / r["seconds"]
                    for r in good
                    if "server_cpu_seconds" in r
                ]
                if busy:
                    row["server_busy"] = statistics.median(busy)
                rows.append(row)
                if client == "aiohttp":
                    base = row
            for row in rows:
                if row["env"] == env and row["scenario"] == scenario and row.get("n") and base:
                    row["x_aiohttp"] = row["mbps"] / base["mbps"]
                    row["x_aiohttp_cpu"] = row["mb_per_cpu_s"] / base["mb_per_cpu_s"]
    return rows


def print_rows(rows: list[dict[str, Any]], reps: int) -> None:
    header = [
        "env",
        "scenario",
        "client",
        "MB/s",
        "(min-max)",
        "CPU s",
        "user",
        "sys",
        "faults/MB",
        "x aiohttp",
        "x aiohttp/CPU s",
        "nginx busy",
    ]
    table = []
    for r in rows:
        if not r.get("n"):
            table.append(
                [r["env"], r["scenario"], r["client"], "failed", "", "", "", "", "", "", "", ""]
            )
            continue
        table.append(
            [
                r["env"],
                r["scenario"],
                r["client"],
                f"{r['mbps']:.0f}",
                f"{r['mbps_min']:.0f}-{r['mbps_max']:.0f}",
                f"{r['cpu_s']:.3f}",
                f"{r['user_s']:.3f}",
                f"{r['sys_s']:.3f}",
                f"{r['faults_per_mb']:.1f}",
                f"{r['x_aiohttp']:.2f}" if "x_aiohttp" in r else "n/a",
                f"{r['x_aiohttp_cpu']:.2f}" if "x_aiohttp_cpu" in r else "n/a",
                f"{r['server_busy']:.0%}" if "server_busy" in r else "n/a",
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *table, strict=True)]
    print(
        f"\nMedians per client (CPU s: user+sys of the timed part, {reps} bodies; curl: whole"
        " process; nginx busy: its worker's CPU seconds over the client process / the timed"
        " wall time, in 10 ms ticks: near 100% the server is the limit)"
    )
    line = "  ".join(
        h.ljust(w) if i < 3 else h.rjust(w)
        for i, (h, w) in enumerate(zip(header, widths, strict=True))
    )
    print(line)
    print("-" * len(line))
    for t in table:
        print(
            "  ".join(
                str(c).ljust(w) if i < 3 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(t, widths, strict=True))
            )
        )


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument(
        "--reps", type=int, default=3, help="bodies streamed per measurement (default 3, as run.py)"
    )
    p.add_argument("--only", default="chunked,big", help="scenarios: chunked,big (default both)")
    p.add_argument(
        "--clients", default=",".join(ALL_CLIENTS), help=f"default all: {','.join(ALL_CLIENTS)}"
    )
    p.add_argument(
        "--heap-trim",
        choices=("default", "off", "both"),
        default="default",
        help="run clients as started (default), with glibc heap trimming off, or both",
    )
    p.add_argument(
        "--urls",
        nargs=2,
        metavar=("CHUNKED_URL", "BIG_URL"),
        help="use a running server (http://127.0.0.1 only) instead of starting nginx",
    )
    p.add_argument(
        "--warmup-url",
        help="with --urls: a small resource on the same origin, fetched before timing"
        " (default ORIGIN/small)",
    )
    p.add_argument("--timeout", type=float, default=180.0, help="seconds per measurement process")
    p.add_argument("--json", help="also write every run and the medians to this file")
    args = p.parse_args()
    args.scenarios = [s for s in SCENARIOS if s in args.only.split(",")]
    args.client_list = [c for c in ALL_CLIENTS if c in args.clients.split(",")]
    bad = set(args.clients.split(",")) - set(ALL_CLIENTS)
    if bad or not args.scenarios or not args.client_list or args.rounds < 1 or args.reps < 1:
        p.error(f"bad --clients/--only/--rounds/--reps ({', '.join(sorted(bad))})")
    if "curl" in args.client_list and not shutil.which("curl"):
        args.client_list.remove("curl")
    return args


def main() -> int:
    if sys.argv[1:2] == ["--measure"]:
        return measure_main(sys.argv[2:])
    args = parse_args()
    sys.path.insert(0, str(HERE))
    import run  # bench/run.py: nginx, files, checks, bounded processes

    t_start = time.monotonic()
    tmp: Path | None = None
    server = None
    runs: list[dict[str, Any]] = []
    envs = {"default": ["default"], "off": ["no-trim"], "both": ["default", "no-trim"]}[
        args.heap_trim
    ]
    try:
        with run.terminate_as_exception():
            if args.urls:
                urls = dict(zip(SCENARIOS, args.urls, strict=True))
                u = urlsplit(urls["chunked"])
                warm = args.warmup_url or f"{u.scheme}://{u.netloc}/small"
                exp = expected_from_urls(urls)
            else:
                import trustme  # bench/setup.sh installs it; run.py's config has a TLS port

                tmp = Path(tempfile.mkdtemp(prefix="rawhttp-ceiling-"))
                files = run.make_files(tmp)
                ca = trustme.CA()
                ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(
                    str(tmp / "server.pem")
                )
                ca.cert_pem.write_to_path(str(tmp / "ca.pem"))
                http, https = run.free_port(), run.free_port()
                while https == http:
                    https = run.free_port()
                binary = run.nginx_binary()
                built = subprocess.run(
                    [binary, "-V"], capture_output=True, text=True, timeout=10
                ).stderr
                server = run.Nginx(
                    binary,
                    tmp,
                    run.nginx_config(
                        tmp,
                        files["docroot"],
                        http,
                        https,
                        "--with-http_gzip_static_module" in built,
                        "--with-http_stub_status_module" in built,
                    ),
                )
                server.start([http, https])
                print(
                    f"nginx: pid {server.proc.pid if server.proc else '?'}, port {http}, files {tmp}",
                    flush=True,
                )
                checks = run.check_server(http, https, tmp / "ca.pem", files)
                print(
                    f"server checks: chunks {checks['chunked']['chunks']}, median {checks['chunked']['chunk_size_median']:.0f} B",
                    flush=True,
                )
                origin = f"http://127.0.0.1:{http}"
                urls = {"chunked": origin + "/chunked", "big": origin + "/big"}
                warm = origin + "/small"
                exp = expected_from_files(files["docroot"])
                if exp["chunked"]["sha256"] != files["chunked_sha256"]:
                    raise SystemExit("chunked file differs from run.py's digest")

            # verify pass: every ceiling mode, every body, SHA-256 of all bytes handed out
            for mode in [c for c in args.client_list if c in CEILING_MODES]:
                for scenario in args.scenarios:
                    cmd = own_cmd(
                        mode,
                        scenario,
                        urls[scenario],
                        warm,
                        exp[scenario],
                        1,
                        args.timeout - 30,
                        True,
                    )
                    code, out, err = run.run_bounded(cmd, args.timeout)
                    rec = (
                        json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
                        if out
                        else {}
                    )
                    if code != 0 or "error" in rec:
                        raise SystemExit(
                            f"verify {mode} {scenario} failed: {rec.get('error') or err[-500:]}"
                        )
                    print(
                        f"verified {mode} {scenario}: {exp[scenario]['size']} bytes, SHA-256 matches the file",
                        flush=True,
                    )

            workers = server_pids(server.proc.pid if server is not None and server.proc else None)
            total = args.rounds * len(envs) * len(args.scenarios) * len(args.client_list)
            done = 0
            for rnd in range(1, args.rounds + 1):
                for env_name in envs:
                    env = dict(os.environ, **run.NO_HEAP_TRIM) if env_name == "no-trim" else None
                    for scenario in args.scenarios:
                        for client in args.client_list:
                            done += 1
                            rec = run_one(
                                client,
                                scenario,
                                urls[scenario],
                                warm,
                                exp[scenario],
                                args,
                                env,
                                workers,
                            )
                            rec.update(round=rnd, env=env_name)
                            runs.append(rec)
                            if "error" in rec:
                                shown = rec["error"]
                            else:
                                mb = rec["bytes"] / 1e6
                                shown = (
                                    f"{rec['value']:7.0f} MB/s  cpu {rec['cpu_seconds']:.3f} s"
                                    f" (user {rec['user_seconds']:.3f} sys {rec['sys_seconds']:.3f})"
                                    f"  {rec['minor_faults'] / mb:6.1f} faults/MB"
                                    + (f"  {rec['receives']} receives" if "receives" in rec else "")
                                    + (
                                        f"  nginx {rec['server_cpu_seconds']:.2f} s"
                                        if "server_cpu_seconds" in rec
                                        else ""
                                    )
                                )
                            print(
                                f"[{done:3d}/{total}] r{rnd} {env_name:7s} {scenario:7s} {client:13s} {shown}",
                                flush=True,
                            )
    finally:
        if server is not None:
            server.stop()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    rows = summarize(runs, args.client_list, args.scenarios, envs)
    print_rows(rows, args.reps)
    failed = [r for r in runs if "error" in r]
    print(
        f"\n{len(runs)} measurements, {len(failed)} failed, {time.monotonic() - t_start:.0f} s; loadavg {os.getloadavg()}"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"command": sys.argv, "rows": rows, "runs": runs}, indent=1) + "\n"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as exc:
        print(f"\ninterrupted ({exc or 'Ctrl-C'}): nginx stopped", file=sys.stderr)
        sys.exit(130)
