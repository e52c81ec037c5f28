"""One SyncSession shared by several threads; closing it while calls run; Ctrl-C while
waiting; leaving a stream early; the blocking stream's speed against the async one.
Everything runs against a threaded loopback server in this process, bounded in time."""

from __future__ import annotations

import asyncio
import gc
import os
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

import rawhttp

WAIT = 10.0  # seconds any wait in these tests may last at most


def pattern(n: int, seed: int) -> bytes:
    block = bytes((seed * 7 + i) % 251 for i in range(251))
    return (block * (n // 251 + 1))[:n]


class Server:
    """A keep-alive HTTP/1.1 server, a thread per connection.  Paths:

    /echo     answers ``id=<X-Id header>`` (and counts the request);
    /barrier  answers 200 once ``barrier`` requests wait at once (503 if they never do);
    /hold     answers only after ``release`` is set (the request counts as ``held``);
    /sleep    ``?s=SECONDS``: answers after that long;
    /partial  sends a head and 10 bytes of a 1000-byte body, then holds like /hold;
    /big      ``?n=BYTES&seed=S``: a body of ``pattern(n, seed)``.
    ``eofs`` counts connections the client closed (seen reading or writing)."""

    def __init__(self, barrier: int = 1) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.held = 0
        self.eofs = 0
        self.release = threading.Event()
        self.barrier = threading.Barrier(barrier, timeout=WAIT)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            t = threading.Thread(target=self.handle, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(WAIT)
        buf = b""
        with conn:
            while not self.stop.is_set():
                while b"\r\n\r\n" not in buf:
                    try:
                        data = conn.recv(65536)
                    except OSError:
                        return
                    if not data:
                        with self.lock:
                            self.eofs += 1
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                fields = dict(
                    line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:]
                )
                size = int(fields.get("Content-Length", "0"))
                while len(buf) < size:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf[size:]
                target = urlsplit(head.split(b" ")[1].decode())
                with self.lock:
                    self.requests += 1
                if target.path == "/hold" and not self.hold(conn):
                    return
                if target.path == "/partial":  # a head and 10 of 1000 bytes, then nothing
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
                    self.hold(conn)
                    return
                try:
                    conn.sendall(self.answer(target.path, parse_qs(target.query), fields))
                except OSError:  # the client closed the connection before the end
                    with self.lock:
                        self.eofs += 1
                    return

    def hold(self, conn: socket.socket) -> bool:
        """Until ``release`` is set: False if the client closes the connection first."""
        with self.lock:
            self.held += 1
        deadline = time.monotonic() + WAIT
        while not self.release.wait(0.01) and time.monotonic() < deadline:
            readable, _, _ = select.select([conn], [], [], 0)
            if readable and not conn.recv(1, socket.MSG_PEEK):
                with self.lock:
                    self.eofs += 1
                return False
        return True

    def answer(self, path: str, query: dict[str, list[str]], fields: dict[str, str]) -> bytes:
        status, body = "200 OK", b""
        if path == "/echo":
            body = b"id=" + fields.get("X-Id", "").encode()
        elif path == "/barrier":
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                status = "503 Not Concurrent"
        elif path == "/sleep":
            time.sleep(float(query["s"][0]))
        elif path == "/big":
            body = pattern(int(query["n"][0]), int(query["seed"][0]))
        return b"HTTP/1.1 %s\r\nContent-Length: %d\r\n\r\n%s" % (status.encode(), len(body), body)

    def close(self) -> None:
        self.release.set()
        self.stop.set()
        self.thread.join(WAIT)
        self.sock.close()
        for t in self.threads:
            t.join(WAIT)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def run_threads(n: int, target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread is still blocked"


# -- sharing one session --------------------------------------------------------------


def test_threads_share_one_session_each_request_sent_and_answered_once(server: Server) -> None:
    threads, calls = 8, 25
    before = open_fds()
    results: dict[str, str] = {}
    failures: list[BaseException] = []
    s = rawhttp.SyncSession(timeout=WAIT)

    def work(n: int) -> None:
        for i in range(calls):
            try:
                r = s.post(
                    server.url("/echo"), content=b"side effect", headers={"X-Id": f"{n}-{i}"}
                )
                results[f"{n}-{i}"] = r.text
            except BaseException as exc:  # every failure is the test's business
                failures.append(exc)

    run_threads(threads, work)
    assert failures == []
    # POST is not retried: every call was sent exactly once and answered to its caller.
    assert server.requests == threads * calls
    assert results == {key: f"id={key}" for key in results}
    assert len(results) == threads * calls
    assert server.eofs == 0  # the pool's connections stayed open for reuse
    s.close()
    wait_for(lambda: open_fds() <= before, "the connections' descriptors to be closed")
    with pytest.raises(rawhttp.Error, match="the session is closed"):
        s.get(server.url("/echo"))


def test_calls_from_several_threads_run_concurrently() -> None:
    srv = Server(barrier=4)  # answers only when 4 requests are in flight at once
    try:
        statuses: list[int] = []
        with rawhttp.SyncSession(timeout=WAIT) as s:
            run_threads(4, lambda n: statuses.append(s.get(srv.url("/barrier")).status))
        assert statuses == [200] * 4
    finally:
        srv.close()


def test_streams_from_several_threads(server: Server) -> None:
    size, chunk = 3_000_000, 50_000
    got: dict[int, tuple[bytes, int]] = {}
    with rawhttp.SyncSession(timeout=WAIT) as s:

        def stream(n: int) -> None:
            with s.stream("GET", server.url(f"/big?n={size}&seed={n}")) as r:
                if n == 0:
                    got[n] = (r.read(), 0)
                    return
                pieces = list(r.iter_raw(chunk) if n == 1 else r.iter_bytes(chunk))
                got[n] = (b"".join(pieces), max(len(p) for p in pieces))

        run_threads(4, stream)
        assert s.pool.in_use == 0
    for n, (body, largest) in got.items():
        assert body == pattern(size, n)
        assert largest <= chunk
    assert len(got) == 4


def test_one_shot_functions_from_several_threads(server: Server) -> None:
    texts: list[str] = []
    run_threads(
        6,
        lambda n: texts.extend(
            rawhttp.get(server.url("/echo"), headers={"X-Id": f"{n}-{i}"}).text for i in range(5)
        ),
    )
    assert sorted(texts) == sorted(f"id={n}-{i}" for n in range(6) for i in range(5))
    assert server.requests == 30


# -- closing --------------------------------------------------------------------------


def test_close_while_calls_are_in_flight(server: Server) -> None:
    before = open_fds()
    s = rawhttp.SyncSession(timeout=WAIT)
    errors: list[BaseException] = []

    def held(n: int) -> None:
        try:
            s.get(server.url("/hold"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=held, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: server.held == 4, "4 requests held by the server")
    started = time.monotonic()
    s.close()
    assert time.monotonic() - started < 3.0
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads)
    assert len(errors) == 4
    for exc in errors:
        assert isinstance(exc, rawhttp.Error)
        assert "closed" in str(exc)
    wait_for(lambda: server.eofs == 4, "the held connections to be closed")
    wait_for(lambda: open_fds() <= before, "the descriptors to be closed")


def test_a_forgotten_session_closes_its_connections_and_loop(server: Server) -> None:
    before = open_fds()
    threads = set(threading.enumerate())
    s = rawhttp.SyncSession()
    assert s.get(server.url("/echo")).status == 200
    assert set(threading.enumerate()) - threads <= set(server.threads)  # none of its own
    del s
    gc.collect()
    wait_for(lambda: server.eofs == 1, "the pooled connection to be closed")
    wait_for(lambda: open_fds() <= before, "the descriptors (and the loop's) to be closed")


def test_calls_from_the_sessions_own_thread_raise_instead_of_deadlocking(server: Server) -> None:
    seen: list[BaseException] = []
    with rawhttp.SyncSession(timeout=WAIT) as s:

        def hook(event: rawhttp.TraceEvent) -> None:
            if event.kind == "send" and not seen:
                try:
                    s.get(server.url("/echo"))
                except rawhttp.EventLoopRunning as exc:
                    seen.append(exc)

        assert s.get(server.url("/echo"), trace=hook).text == "id="
    assert len(seen) == 1
    assert server.requests == 1


def test_close_from_a_hook_on_the_sessions_thread_does_not_deadlock(server: Server) -> None:
    s = rawhttp.SyncSession(timeout=WAIT)

    def hook(event: rawhttp.TraceEvent) -> None:
        if event.kind == "send":
            s.close()  # cannot wait for its own thread: it only starts the stop

    before = open_fds()
    with pytest.raises(rawhttp.Error, match="closed"):
        s.get(server.url("/hold"), trace=hook)
    assert s.is_closed
    wait_for(lambda: server.eofs == 1, "the held connection to be closed")
    wait_for(lambda: open_fds() < before, "the loop's descriptors to be closed")
    with pytest.raises(rawhttp.Error, match="the session is closed"):
        s.get(server.url("/echo"))


# -- Ctrl-C -----------------------------------------------------------------------------


def test_ctrl_c_while_driving_cancels_the_request(server: Server) -> None:
    assert threading.current_thread() is threading.main_thread()
    main = threading.main_thread().ident
    assert main is not None
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with rawhttp.SyncSession(timeout=WAIT) as s:

            def interrupt() -> None:
                deadline = time.monotonic() + WAIT
                while server.held < 1 and time.monotonic() < deadline:
                    time.sleep(0.01)
                signal.pthread_kill(main, signal.SIGINT)

            killer = threading.Thread(target=interrupt)
            killer.start()
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                s.get(server.url("/hold"))
            killer.join(WAIT)
            assert time.monotonic() - started < WAIT
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
            # The request was cancelled: its connection is closed, not left half-used
            # in the pool, and the session goes on working.
            wait_for(lambda: server.eofs == 1, "the interrupted connection to be closed")
            assert s.pool.in_use == 0
            assert s.get(server.url("/echo"), headers={"X-Id": "after"}).text == "id=after"
    finally:
        signal.signal(signal.SIGINT, old)


def test_ctrl_c_while_driving_for_a_streamed_piece_closes_the_stream(server: Server) -> None:
    main = threading.main_thread().ident
    assert threading.current_thread() is threading.main_thread()
    assert main is not None
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    pieces: list[bytes] = []
    try:
        with rawhttp.SyncSession(timeout=WAIT) as s:

            def interrupt() -> None:
                deadline = time.monotonic() + WAIT
                while not pieces and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.05)  # the consumer now waits for the next piece
                signal.pthread_kill(main, signal.SIGINT)

            killer = threading.Thread(target=interrupt)
            killer.start()

            def consume() -> None:
                with s.stream("GET", server.url("/partial")) as r:
                    pieces.extend(r.iter_bytes())

            with pytest.raises(KeyboardInterrupt):
                consume()
            killer.join(WAIT)
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
            assert pieces == [b"0123456789"]
            wait_for(lambda: server.eofs == 1, "the interrupted stream's connection to close")
            assert s.pool.in_use == 0
            assert s.get(server.url("/echo"), headers={"X-Id": "after"}).text == "id=after"
    finally:
        signal.signal(signal.SIGINT, old)


# -- streams left early -------------------------------------------------------------


def test_leaving_a_stream_early_closes_it_and_stops_reading_ahead(server: Server) -> None:
    url = server.url("/big?n=20000000&seed=3")

    def tasks_left(s: rawhttp.SyncSession) -> int:
        """Tasks on the session's loop besides the request's own, seen from a hook."""
        counts: list[int] = []

        def hook(event: rawhttp.TraceEvent) -> None:
            if event.kind == "send":
                counts.append(len(asyncio.all_tasks()) - 1)

        s.get(server.url("/echo"), trace=hook)
        return counts[0]

    with rawhttp.SyncSession(timeout=WAIT) as s:
        with s.stream("GET", url) as r:
            for piece in r.iter_bytes(10_000):
                assert piece == pattern(20_000_000, 3)[:10_000]
                break
        assert s.pool.in_use == 0
        assert tasks_left(s) == 0
        failure = ValueError("the caller's own error")

        def fail_midway() -> None:
            with s.stream("GET", url) as r:
                pieces = r.iter_raw(10_000)
                next(pieces)
                raise failure

        with pytest.raises(ValueError, match="own error") as caught:
            fail_midway()
        assert caught.value is failure
        assert s.pool.in_use == 0
        assert tasks_left(s) == 0
        wait_for(lambda: server.eofs == 2, "both streamed connections to be closed")
        assert s.get(server.url("/echo"), headers={"X-Id": "next"}).text == "id=next"


def test_errors_cross_over_unchanged(server: Server) -> None:
    with rawhttp.SyncSession(timeout=WAIT) as s:
        with pytest.raises(rawhttp.InvalidURL):
            s.get("ftp://127.0.0.1/")
        with (
            s.stream("GET", server.url("/big?n=1000&seed=1")) as r,
            pytest.raises(ValueError, match="chunk_size"),
        ):
            next(r.iter_bytes(0))
        with pytest.raises(rawhttp.ReadTimeout):
            s.get(server.url("/hold"), timeout=0.2)


# -- the blocking stream's speed ----------------------------------------------------


def test_the_blocking_stream_keeps_up_with_the_async_stream(server: Server) -> None:
    """Side by side, best of three each: at least 0.35x the async rate (bench/run.py
    measures 0.8-0.9x against nginx; each piece once cost a whole asyncio.Runner.run,
    about 0.05-0.1x)."""
    size = 24 * 1024 * 1024
    url = server.url(f"/big?n={size}&seed=0")

    async def async_stream() -> float:
        async with rawhttp.Session(timeout=WAIT) as s:
            await s.get(server.url("/echo"))
            started = time.perf_counter()
            n = 0
            async with s.stream("GET", url) as r:
                async for piece in r.iter_bytes():
                    n += len(piece)
            assert n == size
            return time.perf_counter() - started

    def blocking_stream(s: rawhttp.SyncSession) -> float:
        started = time.perf_counter()
        n = 0
        with s.stream("GET", url) as r:
            for piece in r.iter_bytes():
                n += len(piece)
        assert n == size
        return time.perf_counter() - started

    async_times, blocking_times = [], []
    with rawhttp.SyncSession(timeout=WAIT) as s:
        s.get(server.url("/echo"))
        for _ in range(3):
            async_times.append(asyncio.run(async_stream()))
            blocking_times.append(blocking_stream(s))
    ratio = min(async_times) / min(blocking_times)
    assert ratio >= 0.35, (async_times, blocking_times)
