"""The blocking API called from a thread that runs an event loop: a blocking helper
called by a coroutine under asyncio.run(), a callback of a loop running in the main
thread (what Jupyter and IPython do), threads with and without loops sharing a
session.  The call blocks that thread (and its loop) while a helper thread waits in
its place; hooks on a session's own loop still may not call that session.  Against
the threaded loopback server of test_sync_threads, every wait bounded."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_sync_threads import WAIT, Server, open_fds, pattern, run_threads, wait_for

import rawhttp

HELPER = "rawhttp-sync-helper"


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def helper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == HELPER]


def in_a_loop(fn: Callable[[], Any]) -> Any:
    """``fn()`` called by a coroutine under asyncio.run(): a blocking helper called
    from async code."""

    async def main() -> Any:
        return fn()

    return asyncio.run(main())


def in_a_callback(fn: Callable[[], Any]) -> Any:
    """``fn()`` called by a callback of a loop that runs in this thread, as a notebook
    cell's code runs inside the kernel's running loop; no SIGINT handler of asyncio's.
    What the callback raises comes out of run_forever()."""
    loop = asyncio.new_event_loop()
    result: list[Any] = []

    def callback() -> None:
        try:
            result.append(fn())
        finally:
            loop.stop()

    try:
        loop.call_soon(callback)
        loop.run_forever()
    finally:
        loop.close()
    return result[0]


# -- one-shot functions ------------------------------------------------------------------


def test_one_shot_functions_inside_a_running_loop(server: Server) -> None:
    threads = set(threading.enumerate())
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[tuple[threading.Thread, str]] = []

    def hook(event: rawhttp.TraceEvent) -> None:
        seen.append((threading.current_thread(), var.get()))

    def calls() -> list[str]:
        var.set("the caller's")
        loop = asyncio.get_running_loop()
        ran: list[bool] = []
        loop.call_soon(ran.append, True)
        texts = [
            rawhttp.get(server.url("/echo"), headers={"X-Id": "1"}, trace=hook).text,
            rawhttp.post(server.url("/echo"), content=b"x", headers={"X-Id": "2"}).text,
        ]
        assert ran == []  # the loop was blocked meanwhile: a blocking call blocks
        with pytest.raises(rawhttp.InvalidURL):
            rawhttp.get("ftp://127.0.0.1/")
        sock = socket.create_server(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        with pytest.raises(rawhttp.ConnectError):
            rawhttp.get(f"http://127.0.0.1:{port}/")
        return texts

    assert in_a_loop(calls) == ["id=1", "id=2"]
    assert in_a_callback(calls) == ["id=1", "id=2"]
    assert seen
    # The request ran in another thread, in the caller's context.
    assert all(t is not threading.current_thread() for t, _ in seen)
    assert {value for _, value in seen} == {"the caller's"}
    assert server.requests == 4
    wait_for(lambda: set(threading.enumerate()) - threads <= set(server.threads), "no thread")


def test_an_exception_from_a_hook_crosses_over_unchanged(server: Server) -> None:
    failure = LookupError("the hook's own")

    def hook(event: rawhttp.TraceEvent) -> None:
        if event.kind == "send":  # (not "close": see the report on Connection.close)
            raise failure

    def calls() -> None:
        with pytest.raises(LookupError) as caught:
            rawhttp.get(server.url("/echo"), trace=hook)
        assert caught.value is failure
        with rawhttp.SyncSession(timeout=WAIT) as s, pytest.raises(LookupError) as caught:
            s.get(server.url("/echo"), trace=hook)
        assert caught.value is failure

    in_a_loop(calls)


# -- SyncSession -------------------------------------------------------------------------


def test_a_sync_session_inside_asyncio_run(server: Server) -> None:
    """Made, used (calls, streams) and closed inside a running loop: a helper thread
    waits for each call, one reused throughout; closing ends it."""
    before_fds = open_fds()
    threads = set(threading.enumerate())
    size = 1_000_000
    body = pattern(size, 5)

    def use() -> None:
        with rawhttp.SyncSession(timeout=WAIT) as s:
            for i in range(20):
                assert s.get(server.url("/echo"), headers={"X-Id": str(i)}).text == f"id={i}"
            assert [t.name for t in helper_threads()] == [HELPER]  # one, reused
            with s.stream("GET", server.url(f"/big?n={size}&seed=5")) as r:
                pieces = list(r.iter_bytes(10_000))
            assert b"".join(pieces) == body
            assert max(len(p) for p in pieces) <= 10_000
            with s.stream("GET", server.url(f"/big?n={size}&seed=5")) as r:
                assert r.read() == body
            text = s.get(server.url(f"/big?n={size}&seed=5")).text
            with s.stream("GET", server.url(f"/big?n={size}&seed=5")) as r:
                assert "".join(r.iter_text()) == text
            with s.stream("GET", server.url(f"/big?n={size}&seed=5")) as r:
                next(iter(r.iter_bytes(1000)))  # left early: the connection is closed
            assert s.pool.in_use == 0
            assert s.get(server.url("/echo"), headers={"X-Id": "last"}).text == "id=last"
        assert helper_threads() == []  # close() ended them before it returned

    in_a_loop(use)
    # The stream left early closed its connection (the server may see a reset, which
    # it does not count), close() the pooled one.
    wait_for(lambda: server.eofs >= 1, "the connections to be closed")
    assert set(threading.enumerate()) - threads <= set(server.threads)
    wait_for(lambda: open_fds() <= before_fds, "the descriptors to be closed")


def test_a_sync_session_from_a_callback_of_a_loop_in_the_main_thread(server: Server) -> None:
    """The IPython case: the session made at top level, used from code the running
    loop calls; its loop is then also driven from a thread without a loop."""
    s = rawhttp.SyncSession(timeout=WAIT)
    try:
        assert s.get(server.url("/echo"), headers={"X-Id": "plain"}).text == "id=plain"

        def cell() -> str:
            with s.stream("GET", server.url("/big?n=300000&seed=2")) as r:
                assert b"".join(r.iter_raw(50_000)) == pattern(300_000, 2)
            return s.get(server.url("/echo"), headers={"X-Id": "cell"}).text

        assert in_a_callback(cell) == "id=cell"
        assert len(helper_threads()) >= 1  # kept for the next cell
        assert s.get(server.url("/echo"), headers={"X-Id": "again"}).text == "id=again"
        assert in_a_callback(cell) == "id=cell"
    finally:
        s.close()
    assert helper_threads() == []
    assert len(server.threads) == 1  # one pooled connection, reused by every caller


def test_threads_with_and_without_running_loops_share_a_session(server: Server) -> None:
    threads, calls = 6, 15
    results: dict[str, str] = {}
    failures: list[BaseException] = []
    before = set(threading.enumerate())
    s = rawhttp.SyncSession(timeout=WAIT)

    def work(n: int) -> None:
        def requests() -> None:
            for i in range(calls):
                key = f"{n}-{i}"
                results[key] = s.post(server.url("/echo"), headers={"X-Id": key}).text
            with s.stream("GET", server.url(f"/big?n=200000&seed={n}")) as r:
                assert b"".join(r.iter_bytes(7000)) == pattern(200_000, n)

        try:
            if n % 2:
                in_a_loop(requests)
            else:
                requests()
        except BaseException as exc:  # every failure is the test's business
            failures.append(exc)

    run_threads(threads, work)
    assert failures == []
    assert results == {f"{n}-{i}": f"id={n}-{i}" for n in range(threads) for i in range(calls)}
    assert server.requests == threads * (calls + 1)  # each request sent exactly once
    assert 1 <= len(helper_threads()) <= threads // 2
    s.close()
    assert set(threading.enumerate()) - before <= set(server.threads)


def test_calls_from_running_loops_run_concurrently() -> None:
    srv = Server(barrier=3)  # answers only while 3 requests are in flight at once
    try:
        statuses: list[int] = []
        with rawhttp.SyncSession(timeout=WAIT) as s:
            run_threads(
                3, lambda n: statuses.append(in_a_loop(lambda: s.get(srv.url("/barrier")).status))
            )
        assert statuses == [200] * 3
    finally:
        srv.close()


def test_close_while_a_caller_inside_a_loop_waits(server: Server) -> None:
    before = open_fds()
    s = rawhttp.SyncSession(timeout=WAIT)
    errors: list[BaseException] = []

    def held() -> None:
        try:
            s.get(server.url("/hold"))
        except rawhttp.Error as exc:
            errors.append(exc)

    caller = threading.Thread(target=in_a_loop, args=(held,))
    caller.start()
    wait_for(lambda: server.held == 1, "the request to be held")
    began = time.monotonic()
    s.close()
    assert time.monotonic() - began < 3.0
    caller.join(WAIT)
    assert not caller.is_alive()
    assert len(errors) == 1
    assert "closed" in str(errors[0])
    assert helper_threads() == []
    wait_for(lambda: server.eofs == 1, "the held connection to be closed")
    wait_for(lambda: open_fds() <= before, "the descriptors to be closed")


def test_a_session_forgotten_inside_a_loop_ends_its_helper_threads(server: Server) -> None:
    before = open_fds()

    def forget() -> None:
        s = rawhttp.SyncSession(timeout=WAIT)
        assert s.get(server.url("/echo")).status == 200
        assert len(helper_threads()) == 1
        del s
        gc.collect()  # finalized inside the running loop: it does not wait there

    in_a_loop(forget)
    wait_for(lambda: helper_threads() == [], "the helper thread to end")
    wait_for(lambda: server.eofs == 1, "the pooled connection to be closed")
    wait_for(lambda: open_fds() <= before, "the descriptors (and the loop's) to be closed")


# -- the session's own loop --------------------------------------------------------------


def test_hooks_may_not_call_their_own_session_but_may_call_others(server: Server) -> None:
    """A hook runs on the session's loop: a blocking call on that session would wait
    for itself and raises; another session, or a one-shot call, works (blocking the
    loop meanwhile).  The same when the caller itself runs in a loop (a helper thread
    then runs the hook)."""
    outcomes: list[object] = []
    with rawhttp.SyncSession(timeout=WAIT) as s, rawhttp.SyncSession(timeout=WAIT) as other:

        def hook(event: rawhttp.TraceEvent) -> None:
            if event.kind != "send" or outcomes:
                return
            for attempt in (
                lambda: s.get(server.url("/echo")),
                lambda: s.stream("GET", server.url("/echo")).__enter__(),
            ):
                try:
                    attempt()
                    outcomes.append("ran")
                except rawhttp.EventLoopRunning as exc:
                    outcomes.append(exc)
            outcomes.append(other.get(server.url("/echo"), headers={"X-Id": "o"}).text)
            outcomes.append(rawhttp.get(server.url("/echo"), headers={"X-Id": "g"}).text)

        def request() -> str:
            outcomes.clear()
            text = s.get(server.url("/echo"), headers={"X-Id": "s"}, trace=hook).text
            assert len(outcomes) == 4
            assert all(isinstance(o, rawhttp.EventLoopRunning) for o in outcomes[:2])
            assert "wait for itself" in str(outcomes[0])
            assert outcomes[2:] == ["id=o", "id=g"]
            return text

        assert request() == "id=s"
        assert in_a_loop(request) == "id=s"
    assert server.requests == 2 * 3
    assert helper_threads() == []


def test_close_from_a_hook_when_the_caller_runs_in_a_loop(server: Server) -> None:
    """The hook runs on the helper thread driving the loop: close() only starts the
    closing there, which that thread finishes; the caller gets the error."""
    before = open_fds()
    s = rawhttp.SyncSession(timeout=WAIT)

    def hook(event: rawhttp.TraceEvent) -> None:
        if event.kind == "send":
            s.close()

    def call() -> None:
        with pytest.raises(rawhttp.Error, match="closed"):
            s.get(server.url("/hold"), trace=hook)

    in_a_loop(call)
    assert s.is_closed
    wait_for(lambda: helper_threads() == [], "the helper thread to end")
    wait_for(lambda: server.eofs == 1, "the held connection to be closed")
    wait_for(lambda: open_fds() <= before, "the descriptors to be closed")
    with pytest.raises(rawhttp.Error, match="the session is closed"):
        in_a_loop(lambda: s.get(server.url("/echo")))


# -- Ctrl-C ------------------------------------------------------------------------------


@pytest.fixture
def interrupt_main() -> Iterator[Callable[[Callable[[], bool]], threading.Thread]]:
    """Sends SIGINT to the main thread once ``ready()``, from a thread; Python's
    default SIGINT handler meanwhile."""
    assert threading.current_thread() is threading.main_thread()
    main = threading.main_thread().ident
    assert main is not None
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    killers: list[threading.Thread] = []

    def start(ready: Callable[[], bool]) -> threading.Thread:
        def kill() -> None:
            deadline = time.monotonic() + WAIT
            while not ready() and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.05)  # the caller now waits
            signal.pthread_kill(main, signal.SIGINT)

        killer = threading.Thread(target=kill, daemon=True)
        killers.append(killer)
        killer.start()
        return killer

    try:
        yield start
    finally:
        for killer in killers:
            killer.join(WAIT)
        signal.signal(signal.SIGINT, old)


def test_ctrl_c_in_a_loop_cancels_a_sync_session_request(
    server: Server, interrupt_main: Callable[[Callable[[], bool]], threading.Thread]
) -> None:
    with rawhttp.SyncSession(timeout=WAIT) as s:
        interrupt_main(lambda: server.held == 1)
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            in_a_callback(lambda: s.get(server.url("/hold")))
        assert time.monotonic() - started < WAIT
        wait_for(lambda: server.eofs == 1, "the interrupted connection to be closed")
        assert s.pool.in_use == 0
        assert in_a_loop(lambda: s.get(server.url("/echo"), headers={"X-Id": "a"}).text) == "id=a"
        assert s.get(server.url("/echo"), headers={"X-Id": "b"}).text == "id=b"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert helper_threads() == []


def test_ctrl_c_in_a_loop_closes_a_stream_waiting_for_a_piece(
    server: Server, interrupt_main: Callable[[Callable[[], bool]], threading.Thread]
) -> None:
    pieces: list[bytes] = []
    with rawhttp.SyncSession(timeout=WAIT) as s:

        def consume() -> None:
            with s.stream("GET", server.url("/partial")) as r:
                pieces.extend(r.iter_bytes())

        interrupt_main(lambda: bool(pieces))
        with pytest.raises(KeyboardInterrupt):
            in_a_callback(consume)
        assert pieces == [b"0123456789"]
        wait_for(lambda: server.eofs == 1, "the stream's connection to be closed")
        assert s.pool.in_use == 0
        assert s.get(server.url("/echo"), headers={"X-Id": "after"}).text == "id=after"
    assert helper_threads() == []


def test_ctrl_c_in_a_loop_cancels_a_one_shot_request(
    server: Server, interrupt_main: Callable[[Callable[[], bool]], threading.Thread]
) -> None:
    before = set(threading.enumerate())
    interrupt_main(lambda: server.held == 1)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        in_a_callback(lambda: rawhttp.get(server.url("/hold")))
    assert time.monotonic() - started < WAIT
    # Cancelled in its thread, which ended: its connection is closed, not left open.
    wait_for(lambda: server.eofs == 1, "the interrupted connection to be closed")
    wait_for(lambda: set(threading.enumerate()) - before <= set(server.threads), "no thread")
    assert in_a_loop(lambda: rawhttp.get(server.url("/echo")).status) == 200


def test_ctrl_c_under_asyncio_run_interrupts_at_the_second_press(
    server: Server, interrupt_main: Callable[[Callable[[], bool]], threading.Thread]
) -> None:
    """asyncio.run()'s SIGINT handler (the program's, left alone) only cancels its main
    task at the first press, which the blocking call cannot notice: the call goes on.
    The second press raises KeyboardInterrupt in the call, which cancels it."""
    with rawhttp.SyncSession(timeout=WAIT) as s:
        first = interrupt_main(lambda: server.held == 1)
        between: list[int] = []

        def after_first() -> bool:
            if first.is_alive():
                return False
            time.sleep(0.2)
            between.append(server.eofs)
            return True

        interrupt_main(after_first)
        with pytest.raises(KeyboardInterrupt):
            in_a_loop(lambda: s.get(server.url("/hold")))
        assert between == [0]  # still held after the first press
        wait_for(lambda: server.eofs == 1, "the interrupted connection to be closed")
        assert s.get(server.url("/echo"), headers={"X-Id": "after"}).text == "id=after"
    assert helper_threads() == []
