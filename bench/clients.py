"""One benchmark measurement in its own process; prints one JSON line on stdout.

    python bench/clients.py CLIENT SCENARIO URL [WARMUP_URL] [options]

CLIENT is rawhttp, rawhttp-sync (rawhttp's blocking SyncSession), aiohttp, httpx,
urllib3, floor (a bare asyncio streams loop), bare (a bare asyncio.BufferedProtocol
that parses nothing but the head: the floor for Content-Length bodies) or ceiling
(bench/ceiling.py's BufferedProtocol client in its ceiling-bytes mode: only chunk
framing parsed, bytes handed out: the floor for chunked bodies).  An async client
with the suffix ``-uvloop`` (rawhttp-uvloop, aiohttp-uvloop, ...) runs under
``uvloop.run()`` instead of ``asyncio.run()``.
SCENARIO is seq, conc, tls_seq, tls_new (small GETs, req/s), big, chunked, long (streamed
bodies, MB/s), rss (peak RSS growth in MiB while streaming one body), idle (RSS growth
in MiB of --conc idle pooled keep-alive connections) or gzip (bodies decoded from gzip,
MB/s of decoded bytes).  WARMUP_URL (a small resource on
the same origin) opens the connection before a streaming measurement starts.

Every loop is bounded in count (--n, --warmup, --reps) and in time (--budget): past
the budget the measurement stops with an error.  bench/run.py drives this script.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import resource
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

BASE_CLIENTS = (
    "rawhttp",
    "rawhttp-sync",
    "aiohttp",
    "httpx",
    "urllib3",
    "floor",
    "bare",
    "ceiling",
)
UVLOOP_SUFFIX = "-uvloop"
UVLOOP_CLIENTS = ("rawhttp", "aiohttp", "httpx", "floor", "bare", "ceiling")
CLIENTS = (*BASE_CLIENTS, *(c + UVLOOP_SUFFIX for c in UVLOOP_CLIENTS))
SCENARIOS = (
    "seq",
    "conc",
    "big",
    "chunked",
    "long",
    "tls_seq",
    "tls_new",
    "rss",
    "idle",
    "gzip",
)
UNITS = {
    "seq": "req/s",
    "conc": "req/s",
    "tls_seq": "req/s",
    "tls_new": "req/s",
    "big": "MB/s",
    "chunked": "MB/s",
    "long": "MB/s",
    "gzip": "MB/s",
    "rss": "MiB",
    "idle": "MiB",
}
CHUNK = 64 * 1024
STREAM_LIMIT = 1024 * 1024  # the floor's StreamReader limit: the same as rawhttp's
CLOSE = {"Connection": "close"}
GZIP = {"Accept-Encoding": "gzip"}


class NotSupported(Exception):
    """The client cannot do what the scenario needs (reported as n/a, not as a failure)."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.perf_counter() + seconds
        self.seconds = seconds

    def check(self) -> None:
        if time.perf_counter() > self.end:
            raise TimeoutError(f"time budget of {self.seconds:.0f} s exceeded")


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def status_mib(field: str) -> float | None:
    """VmRSS or VmHWM (peak RSS) from /proc/self/status, in MiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def statm_rss_mib() -> float:
    """Current RSS from /proc/self/statm, in MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024.0 / 1024.0


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakRss:
    """Peak RSS growth over a block, in MiB.

    ru_maxrss alone misleads here: on Linux a process started by fork+exec begins
    with ru_maxrss at least the parent's RSS at fork time (the kernel carries the
    old address space's high-water mark over exec), which hides any growth below
    that.  VmHWM belongs to the new address space only, and is reset to the
    current RSS before the block, so the growth is the peak during the block minus
    the RSS just before it.  ru_maxrss before and after are recorded as well."""

    def __enter__(self) -> PeakRss:
        gc.collect()
        self.ru_before = maxrss_mib()
        self.reset = reset_peak_rss()
        self.before = status_mib("VmRSS" if self.reset else "VmHWM")
        return self

    def __exit__(self, *exc: object) -> None:
        self.ru_after = maxrss_mib()
        self.after = status_mib("VmHWM")

    def growth(self) -> float:
        if self.before is None or self.after is None:  # no /proc: ru_maxrss only
            return self.ru_after - self.ru_before
        return self.after - self.before

    def record(self) -> dict[str, Any]:
        return {
            "rss_method": "VmHWM reset" if self.reset else "VmHWM" if self.after else "ru_maxrss",
            "rss_before_mib": self.before,
            "rss_peak_mib": self.after,
            "ru_maxrss_before_mib": self.ru_before,
            "ru_maxrss_after_mib": self.ru_after,
        }


def ssl_context(ca: str | None) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=ca) if ca else None


def check_body(body: bytes, size: int | None, what: str) -> None:
    if size is not None and len(body) != size:
        if body[:2] == b"\x1f\x8b":
            raise NotSupported("the client returned the gzip-encoded body undecoded")
        raise AssertionError(f"{what}: got {len(body)} bytes, expected {size}")


# -- async adapters: get() reads a whole body, stream() counts a body read in pieces --


class RawhttpClient:
    def __init__(self, ca: str | None, conc: int) -> None:
        import rawhttp

        self.s = rawhttp.Session(
            max_connections=conc, verify=ca or True, timeout=rawhttp.Timeout(30.0)
        )

    async def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        r = await self.s.get(url, headers=headers)
        if r.status != 200:
            raise AssertionError(f"status {r.status}")
        return r.content

    async def stream(self, url: str) -> int:
        n = 0
        async with self.s.stream("GET", url) as r:
            if r.status != 200:
                raise AssertionError(f"status {r.status}")
            async for chunk in r.iter_bytes():
                n += len(chunk)
        return n

    async def close(self) -> None:
        await self.s.aclose()


class AiohttpClient:
    def __init__(self, ca: str | None, conc: int) -> None:
        import aiohttp

        ctx = ssl_context(ca)
        connector = aiohttp.TCPConnector(limit=conc, ssl=ctx if ctx is not None else True)
        self.s = aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=120, sock_read=30)
        )

    async def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        async with self.s.get(url, headers=headers) as r:
            if r.status != 200:
                raise AssertionError(f"status {r.status}")
            return await r.read()

    async def stream(self, url: str) -> int:
        n = 0
        async with self.s.get(url) as r:
            if r.status != 200:
                raise AssertionError(f"status {r.status}")
            async for chunk in r.content.iter_chunked(CHUNK):
                n += len(chunk)
        return n

    async def close(self) -> None:
        await self.s.close()


class HttpxClient:
    def __init__(self, ca: str | None, conc: int) -> None:
        import httpx

        ctx = ssl_context(ca)
        self.c = httpx.AsyncClient(
            verify=ctx if ctx is not None else True,
            limits=httpx.Limits(max_connections=conc, max_keepalive_connections=conc),
            timeout=httpx.Timeout(30.0),
        )

    async def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        r = await self.c.get(url, headers=headers)
        if r.status_code != 200:
            raise AssertionError(f"status {r.status_code}")
        return r.content

    async def stream(self, url: str) -> int:
        n = 0
        async with self.c.stream("GET", url) as r:
            if r.status_code != 200:
                raise AssertionError(f"status {r.status_code}")
            async for chunk in r.aiter_bytes():
                n += len(chunk)
        return n

    async def close(self) -> None:
        await self.c.aclose()


class FloorClient:
    """No HTTP client: asyncio.open_connection, a fixed request, readuntil, readexactly.

    Idle connections are kept in a plain list so that concurrent workers each hold
    one; Content-Length is found by a byte search and chunked bodies by a minimal
    dechunker; bodies over 64 KiB are read in pieces of at most 64 KiB.  No
    validation beyond the status code and the body length.  The StreamReader limit
    is rawhttp's (1 MiB), so the floor is asyncio streams at their best setting."""

    def __init__(self, ca: str | None, conc: int) -> None:
        self.ctx = ssl_context(ca)
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.all: list[asyncio.StreamWriter] = []
        self.requests: dict[tuple[str, bool, bool], tuple[str, int, bytes]] = {}

    def _request(self, url: str, close: bool, gzip: bool) -> tuple[str, int, bytes]:
        key = (url, close, gzip)
        req = self.requests.get(key)
        if req is None:
            u = urlsplit(url)
            host, port = u.hostname or "127.0.0.1", u.port or 80
            extra = (b"Connection: close\r\n" if close else b"") + (
                b"Accept-Encoding: gzip\r\n" if gzip else b""
            )
            head = b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n" % (
                (u.path or "/").encode(),
                host.encode(),
                port,
                extra,
            )
            req = self.requests[key] = (host, port, head)
        return req

    async def _conn(
        self, host: str, port: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle:
            return self.idle.pop()
        reader, writer = await asyncio.open_connection(host, port, ssl=self.ctx, limit=STREAM_LIMIT)
        self.all.append(writer)
        return reader, writer

    async def _exchange(
        self, url: str, headers: dict[str, str] | None, sink: Callable[[bytes], None]
    ) -> None:
        close = headers is not None and "Connection" in headers
        host, port, req = self._request(
            url, close, headers is not None and "Accept-Encoding" in headers
        )
        reader, writer = await self._conn(host, port)
        writer.write(req)
        head = await reader.readuntil(b"\r\n\r\n")
        if head[9:12] != b"200":
            raise AssertionError(f"status line {head[:40]!r}")
        lower = head.lower()
        i = lower.find(b"\r\ncontent-length:")
        if i >= 0:
            remaining = int(head[i + 17 : head.index(b"\r\n", i + 2)])
            if remaining <= CHUNK:  # small bodies: one readexactly
                sink(await reader.readexactly(remaining))
                remaining = 0
            while remaining:  # large ones: in pieces of at most 64 KiB
                data = await reader.read(min(CHUNK, remaining))
                if not data:
                    raise EOFError("connection closed mid-body")
                sink(data)
                remaining -= len(data)
        else:  # Transfer-Encoding: chunked (nginx sends nothing else here)
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":
                        pass
                    break
                while size:
                    data = await reader.read(min(CHUNK, size))
                    if not data:
                        raise EOFError("connection closed mid-chunk")
                    sink(data)
                    size -= len(data)
                await reader.readexactly(2)
        if close:
            writer.close()
            await writer.wait_closed()
        else:
            self.idle.append((reader, writer))

    async def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        parts: list[bytes] = []
        await self._exchange(url, headers, parts.append)
        body = b"".join(parts)
        if headers is not None and "Accept-Encoding" in headers and body[:2] == b"\x1f\x8b":
            body = zlib.decompressobj(31).decompress(body)
        return body

    async def stream(self, url: str) -> int:
        n = 0

        def count(data: bytes) -> None:
            nonlocal n
            n += len(data)

        await self._exchange(url, None, count)
        return n

    async def close(self) -> None:
        for w in self.all:
            w.close()


class BareProtocol(asyncio.BufferedProtocol):
    """The floor for Content-Length bodies: the transport receives into one reused
    1 MiB bytearray; the head is found by a byte search (its Content-Length too); the
    body is cut into bytes of at most 64 KiB right in ``buffer_updated()`` (the one
    copy any client handing out bytes makes) and counted: no parsing, no queue, no
    await per piece."""

    def __init__(self) -> None:
        self.buf = bytearray(STREAM_LIMIT)
        self.view = memoryview(self.buf)
        self.used = 0  # head bytes buffered (before the head is complete)
        self.left = -1  # body bytes still to come; -1: reading the head
        self.counted = 0
        self.done: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None
        self.exc: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view[self.used :]

    def buffer_updated(self, nbytes: int) -> None:
        if self.left < 0:
            self.used += nbytes
            end = self.buf.find(b"\r\n\r\n", 0, self.used)
            if end < 0:
                if self.used > 65536:
                    self._finish(AssertionError("head too long"))
                return
            head = bytes(self.buf[: end + 2])
            i = head.lower().find(b"\r\ncontent-length:")
            if not head.startswith(b"HTTP/1.1 200 ") or i < 0:
                self._finish(NotSupported(f"bare: needs 200 + Content-Length, got {head[:60]!r}"))
                return
            self.left = int(head[i + 17 : head.index(b"\r\n", i + 2)])
            start, nbytes = end + 4, self.used - end - 4
            self.used = 0
        else:
            start = 0
        take = min(nbytes, self.left)
        view = self.view
        for at in range(start, start + take, CHUNK):
            self.counted += len(bytes(view[at : min(at + CHUNK, start + take)]))
        self.left -= take
        if self.left == 0 or take < nbytes:
            self._finish(None if take == nbytes else AssertionError("bytes past the body"))

    def _finish(self, exc: BaseException | None) -> None:
        done = self.done
        if done is not None and not done.done():
            if exc is None:
                done.set_result(None)
            else:
                done.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(exc or EOFError("connection closed mid-response"))

    async def get(self, request: bytes) -> int:
        assert self.transport is not None
        self.left, self.counted, self.used = -1, 0, 0
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        await self.done
        return self.counted


class _OneConnection:
    """An adapter holding one keep-alive connection for a protocol-level client
    (bare, ceiling): only the streaming scenarios (and their small warm-up GET)."""

    def __init__(self, ca: str | None, conc: int) -> None:
        if ca or conc != 1:
            raise NotSupported("one plain connection only")
        self.transport: asyncio.BaseTransport | None = None

    async def _open(self, url: str, factory: Callable[[], Any]) -> tuple[Any, str, int, str]:
        u = urlsplit(url)
        host, port = u.hostname or "127.0.0.1", u.port or 80
        if self.transport is None:
            loop = asyncio.get_running_loop()
            self.transport, self.proto = await loop.create_connection(factory, host, port)
        return self.proto, host, port, u.path or "/"

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class BareClient(_OneConnection):
    async def stream(self, url: str) -> int:
        proto, host, port, path = await self._open(url, BareProtocol)
        return await proto.get(
            b"GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path.encode(), host.encode(), port)
        )

    async def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        if headers:
            raise NotSupported("bare: no request headers")
        n = await self.stream(url)
        return b"x" * n  # the warm-up GET before a stream: only its length is checked


class CeilingClient(_OneConnection):
    """bench/ceiling_protocol.py's CeilingProtocol, ceiling-bytes mode: chunk framing parsed,
    body pieces of at most 64 KiB copied out as bytes when pulled."""

    async def stream(self, url: str) -> int:
        from ceiling_protocol import CeilingProtocol  # bench/ceiling_protocol.py: this folder

        proto, host, port, path = await self._open(url, lambda: CeilingProtocol("ceiling-bytes"))
        proto.request(host, port, path)
        n = 0
        read = proto.read
        while piece := await read():
            n += len(piece)
        if proto.status != 200:
            raise AssertionError(f"status {proto.status}")
        return n

    async def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        if headers:
            raise NotSupported("ceiling: no request headers")
        return b"x" * await self.stream(url)


ASYNC = {
    "rawhttp": RawhttpClient,
    "aiohttp": AiohttpClient,
    "httpx": HttpxClient,
    "floor": FloorClient,
    "bare": BareClient,
    "ceiling": CeilingClient,
}


# -- async drivers ----------------------------------------------------------------


async def a_sequential(
    get: Callable[..., Awaitable[bytes]],
    url: str,
    n: int,
    warmup: int,
    size: int | None,
    headers: dict[str, str] | None,
    dl: Deadline,
) -> tuple[float, float, int]:
    for _ in range(warmup):
        check_body(await get(url, headers), size, "warm-up")
        dl.check()
    total = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        body = await get(url, headers)
        check_body(body, size, "response")
        total += len(body)
        dl.check()
    return time.perf_counter() - t0, time.process_time() - c0, total


async def a_concurrent(
    get: Callable[..., Awaitable[bytes]],
    url: str,
    n: int,
    warmup: int,
    conc: int,
    size: int | None,
    dl: Deadline,
) -> tuple[float, float, int]:
    async def batch(count: int) -> int:
        left = count
        total = 0

        async def worker() -> None:
            nonlocal left, total
            while left > 0:
                left -= 1
                body = await get(url)
                check_body(body, size, "response")
                total += len(body)
                dl.check()

        async with asyncio.TaskGroup() as tg:
            for _ in range(min(conc, count)):
                tg.create_task(worker())
        return total

    await batch(warmup)
    t0, c0 = time.perf_counter(), time.process_time()
    total = await batch(n)
    return time.perf_counter() - t0, time.process_time() - c0, total


async def a_streams(
    stream: Callable[[str], Awaitable[int]], url: str, reps: int, size: int | None, dl: Deadline
) -> tuple[float, float, int]:
    total = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        got = await stream(url)
        if size is not None and got != size:
            raise AssertionError(f"streamed {got} bytes, expected {size}")
        total += got
        dl.check()
    return time.perf_counter() - t0, time.process_time() - c0, total


async def run_async(args: argparse.Namespace, dl: Deadline) -> dict[str, Any]:
    client = ASYNC[args.client.removesuffix(UVLOOP_SUFFIX)](args.ca, args.conc)
    try:
        return await measure(client, args, dl, a_sequential, a_concurrent, a_streams, True)
    finally:
        await client.close()


# -- urllib3 (blocking) -----------------------------------------------------------


class Urllib3Client:
    def __init__(self, ca: str | None, conc: int) -> None:
        import urllib3

        tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED", "ca_certs": ca} if ca else {}
        self.pm = urllib3.PoolManager(
            maxsize=conc, block=True, retries=False, timeout=urllib3.Timeout(30.0), **tls
        )

    def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        r = self.pm.request("GET", url, headers=headers)
        if r.status != 200:
            raise AssertionError(f"status {r.status}")
        return r.data

    def stream(self, url: str) -> int:
        n = 0
        r = self.pm.request("GET", url, preload_content=False)
        try:
            if r.status != 200:
                raise AssertionError(f"status {r.status}")
            for chunk in r.stream(CHUNK):
                n += len(chunk)
        finally:
            r.release_conn()
        return n

    def close(self) -> None:
        self.pm.clear()


class RawhttpSyncClient:
    """rawhttp's blocking API: one SyncSession (its loop run by whichever calling
    thread waits), shared by the threads of `conc`; bodies streamed with
    ``iter_bytes()`` in 64 KiB pieces."""

    def __init__(self, ca: str | None, conc: int) -> None:
        import rawhttp

        self.s = rawhttp.SyncSession(
            max_connections=conc, verify=ca or True, timeout=rawhttp.Timeout(30.0)
        )

    def get(self, url: str, headers: dict[str, str] | None = None) -> bytes:
        r = self.s.get(url, headers=headers)
        if r.status != 200:
            raise AssertionError(f"status {r.status}")
        return r.content

    def stream(self, url: str) -> int:
        n = 0
        with self.s.stream("GET", url) as r:
            if r.status != 200:
                raise AssertionError(f"status {r.status}")
            for chunk in r.iter_bytes(CHUNK):
                n += len(chunk)
        return n

    def close(self) -> None:
        self.s.close()


BLOCKING: dict[str, Any] = {"urllib3": Urllib3Client, "rawhttp-sync": RawhttpSyncClient}


def run_blocking(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run measure() for a blocking client with no event loop at all: with
    is_async=False it never suspends, and rawhttp's blocking API refuses to run
    inside a running loop (as it should)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("measure() suspended while measuring a blocking client")


def s_sequential(
    get: Callable[..., bytes],
    url: str,
    n: int,
    warmup: int,
    size: int | None,
    headers: dict[str, str] | None,
    dl: Deadline,
) -> tuple[float, float, int]:
    for _ in range(warmup):
        check_body(get(url, headers), size, "warm-up")
        dl.check()
    total = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        body = get(url, headers)
        check_body(body, size, "response")
        total += len(body)
        dl.check()
    return time.perf_counter() - t0, time.process_time() - c0, total


def s_concurrent(
    get: Callable[..., bytes],
    url: str,
    n: int,
    warmup: int,
    conc: int,
    size: int | None,
    dl: Deadline,
) -> tuple[float, float, int]:
    """``conc`` threads share one PoolManager (maxsize=conc, block=True)."""
    with ThreadPoolExecutor(max_workers=conc) as pool:

        def batch(count: int) -> int:
            tickets = itertools.count()
            totals: list[int] = []
            lock = threading.Lock()

            def worker() -> None:
                total = 0
                while next(tickets) < count:
                    body = get(url)
                    check_body(body, size, "response")
                    total += len(body)
                    dl.check()
                with lock:
                    totals.append(total)

            for f in [pool.submit(worker) for _ in range(min(conc, count))]:
                f.result()
            return sum(totals)

        batch(warmup)
        t0, c0 = time.perf_counter(), time.process_time()
        total = batch(n)
        return time.perf_counter() - t0, time.process_time() - c0, total


def s_streams(
    stream: Callable[[str], int], url: str, reps: int, size: int | None, dl: Deadline
) -> tuple[float, float, int]:
    total = 0
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(reps):
        got = stream(url)
        if size is not None and got != size:
            raise AssertionError(f"streamed {got} bytes, expected {size}")
        total += got
        dl.check()
    return time.perf_counter() - t0, time.process_time() - c0, total


# -- one scenario, written once for both kinds of client ---------------------------


async def measure(
    client: Any,
    args: argparse.Namespace,
    dl: Deadline,
    sequential: Callable[..., Any],
    concurrent: Callable[..., Any],
    streams: Callable[..., Any],
    is_async: bool,
) -> dict[str, Any]:
    """The blocking clients run through here too (is_async=False): their calls are
    made directly, and nothing awaits anything real (see run_blocking)."""

    async def call(fn: Callable[..., Any], *a: Any) -> Any:
        result = fn(*a)
        return await result if is_async else result

    sc, url, size = args.scenario, args.url, args.size
    out: dict[str, Any] = {}
    if sc in ("seq", "tls_seq", "tls_new", "gzip"):
        headers = CLOSE if sc == "tls_new" else GZIP if sc == "gzip" else None
        secs, cpu, nbytes = await call(
            sequential, client.get, url, args.n, args.warmup, size, headers, dl
        )
        count = args.n
        value = (nbytes / secs / 1e6) if sc == "gzip" else (count / secs)
    elif sc == "conc":
        secs, cpu, nbytes = await call(
            concurrent, client.get, url, args.n, args.warmup, args.conc, size, dl
        )
        count = args.n
        value = count / secs
    elif sc == "idle":
        # RSS growth of `conc` idle keep-alive connections: all requests in flight at
        # once (so each opens its own connection), then idle in the pool
        if isinstance(client, _OneConnection):
            raise NotSupported("no connection pool")
        await call(sequential, client.get, url, 2, 0, size, None, dl)  # warm-up
        gc.collect()
        before = statm_rss_mib()
        secs, cpu, nbytes = await call(
            concurrent, client.get, url, args.conc, 0, args.conc, size, dl
        )
        gc.collect()
        value = statm_rss_mib() - before
        count = args.conc
        out.update(rss_before_mib=before)
    elif sc in ("big", "chunked", "long", "rss"):
        if args.warmup_url:
            await call(lambda: client.get(args.warmup_url))
        with PeakRss() as peak:
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            secs, cpu, nbytes = await call(streams, client.stream, url, args.reps, size, dl)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
        count = args.reps
        mbps = nbytes / secs / 1e6
        # Where a streamed body's CPU time goes: user vs kernel time, and the minor page
        # faults (fresh memory touched: receive buffers freed and allocated again).
        out.update(
            user_seconds=round(r1.ru_utime - r0.ru_utime, 4),
            sys_seconds=round(r1.ru_stime - r0.ru_stime, 4),
            minor_faults=r1.ru_minflt - r0.ru_minflt,
        )
        if sc == "rss":
            value = peak.growth()
            out.update(peak.record(), mbps=mbps)
        else:
            value = mbps
    else:
        raise SystemExit(f"unknown scenario {sc!r}")
    # client CPU time (user + system, all threads) over the timed part: less sensitive
    # than wall time to other load on the machine
    out.update(value=value, seconds=secs, cpu_seconds=cpu, count=count, bytes=nbytes)
    out["loadavg"] = os.getloadavg()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("client", choices=CLIENTS)
    p.add_argument("scenario", choices=SCENARIOS)
    p.add_argument("url")
    p.add_argument("warmup_url", nargs="?", help="small resource fetched before streaming")
    p.add_argument("--ca", help="CA bundle (PEM) for https URLs")
    p.add_argument("--n", type=int, default=1000, help="measured requests")
    p.add_argument("--warmup", type=int, default=100, help="requests before timing starts")
    p.add_argument("--conc", type=int, default=1, help="requests in flight (and max connections)")
    p.add_argument("--reps", type=int, default=1, help="bodies streamed (big, chunked, long, rss)")
    p.add_argument("--size", type=int, help="expected (decoded) body size in bytes")
    p.add_argument("--budget", type=float, default=240.0, help="time limit in seconds")
    args = p.parse_args()

    result: dict[str, Any] = {
        "client": args.client,
        "scenario": args.scenario,
        "unit": UNITS[args.scenario],
        "value": None,
    }
    dl = Deadline(args.budget)
    code = 0
    try:
        if args.client in BLOCKING:
            client = BLOCKING[args.client](args.ca, args.conc)
            try:
                out = run_blocking(
                    measure(client, args, dl, s_sequential, s_concurrent, s_streams, False)
                )
            finally:
                client.close()
        elif args.client.endswith(UVLOOP_SUFFIX):
            try:
                import uvloop
            except ImportError as exc:
                raise NotSupported("uvloop is not installed (bench/setup.sh)") from exc
            out = uvloop.run(run_async(args, dl))
            out["loop"] = f"uvloop {uvloop.__version__}"
        else:
            out = asyncio.run(run_async(args, dl))
        result.update(out)
    except NotSupported as exc:
        result["note"] = f"n/a: {exc}"
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        code = 1
    print(json.dumps(result), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
