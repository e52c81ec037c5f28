"""Who runs a SyncSession's event loop: the calling thread that waits (leader/follower).
One thread alone runs its requests itself; the role passes to a waiting thread when
the driver's call ends or its consumer stops to work on a piece; Ctrl-C in a thread
that waits while another drives; close() while another thread drives a stream; a
child process after fork().  Against the threaded loopback server of
test_sync_threads, every wait bounded."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
import warnings
from collections.abc import Iterator

import pytest
from test_sync_threads import WAIT, Server, open_fds, wait_for

import rawhttp


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.close()


def start(target: object, *args: object) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
    t.start()
    return t


def test_one_thread_runs_its_requests_itself(server: Server) -> None:
    """No thread of the session's own, no hand-off: hooks run in the caller."""
    threads = set(threading.enumerate())
    seen: set[threading.Thread] = set()

    def hook(event: rawhttp.TraceEvent) -> None:
        seen.add(threading.current_thread())

    with rawhttp.SyncSession(timeout=WAIT, trace=hook) as s:
        for i in range(5):
            assert s.get(server.url("/echo"), headers={"X-Id": str(i)}).text == f"id={i}"
        with s.stream("GET", server.url("/big?n=300000&seed=1")) as r:
            assert sum(len(p) for p in r.iter_bytes(10_000)) == 300_000
        assert set(threading.enumerate()) - threads <= set(server.threads)
    assert seen == {threading.current_thread()}
    assert rawhttp.get(server.url("/echo"), trace=hook).status == 200  # one-shot: the same
    assert seen == {threading.current_thread()}


def test_the_role_passes_on_when_the_drivers_request_ends(server: Server) -> None:
    """A's request runs the loop; B's is sent meanwhile (by A) and answered only
    after A's ended and A left: B then runs the loop itself and gets its answer."""
    results: dict[str, object] = {}
    b_receives: list[threading.Thread] = []

    def hook(event: rawhttp.TraceEvent) -> None:
        if event.kind == "receive":
            b_receives.append(threading.current_thread())

    with rawhttp.SyncSession(timeout=WAIT) as s:
        a = start(lambda: results.setdefault("a", s.get(server.url("/sleep?s=0.3")).status))
        wait_for(lambda: server.requests == 1, "A's request to be sent")
        b = start(lambda: results.setdefault("b", s.get(server.url("/hold"), trace=hook).status))
        wait_for(lambda: server.held == 1, "B's request to be sent while A drives")
        a.join(WAIT)
        assert results == {"a": 200}
        assert b.is_alive()
        server.release.set()
        b.join(WAIT)
        assert results == {"a": 200, "b": 200}
    assert b_receives
    assert set(b_receives) == {b}


def test_a_consumer_pausing_between_pieces_does_not_hold_up_other_threads(
    server: Server,
) -> None:
    """While the consumer works on its pieces (here: sleeps), it does not run the loop;
    another thread's requests run it and complete meanwhile."""
    done: dict[str, float] = {}
    with rawhttp.SyncSession(timeout=WAIT) as s:
        s.get(server.url("/echo"))

        def consume() -> None:
            with s.stream("GET", server.url("/big?n=5000000&seed=2")) as r:
                for n, _ in enumerate(r.iter_bytes(10_000)):
                    time.sleep(0.02)
                    if n == 25:
                        break
            done["consumer"] = time.monotonic()

        def requests() -> None:
            for i in range(30):
                assert s.get(server.url("/echo"), headers={"X-Id": str(i)}).text == f"id={i}"
            done["requests"] = time.monotonic()

        consumer = start(consume)
        time.sleep(0.1)  # the stream is under way
        requester = start(requests)
        requester.join(WAIT)
        consumer.join(WAIT)
        assert set(done) == {"consumer", "requests"}
        assert done["requests"] < done["consumer"]  # did not wait for the consumer's end
        assert s.pool.in_use == 0


def test_ctrl_c_while_another_thread_drives_cancels_only_this_request(server: Server) -> None:
    main = threading.main_thread().ident
    assert threading.current_thread() is threading.main_thread()
    assert main is not None
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with rawhttp.SyncSession(timeout=WAIT) as s:
            other: list[int] = []
            driver = start(lambda: other.append(s.get(server.url("/hold")).status))
            wait_for(lambda: server.held == 1, "the other thread's request to be sent")

            def interrupt() -> None:
                deadline = time.monotonic() + WAIT
                while server.held < 2 and time.monotonic() < deadline:
                    time.sleep(0.01)
                time.sleep(0.05)
                signal.pthread_kill(main, signal.SIGINT)

            killer = start(interrupt)
            with pytest.raises(KeyboardInterrupt):
                s.get(server.url("/hold"))  # sleeps: the other thread drives
            killer.join(WAIT)
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
            wait_for(lambda: server.eofs == 1, "the interrupted request's connection to close")
            assert driver.is_alive()  # the other request goes on
            server.release.set()
            driver.join(WAIT)
            assert other == [200]
            assert s.pool.in_use == 0
            assert s.get(server.url("/echo"), headers={"X-Id": "after"}).text == "id=after"
    finally:
        signal.signal(signal.SIGINT, old)


def test_close_while_another_thread_drives_a_stream(server: Server) -> None:
    before = open_fds()
    s = rawhttp.SyncSession(timeout=WAIT)
    pieces: list[bytes] = []
    errors: list[BaseException] = []

    def consume() -> None:
        try:
            with s.stream("GET", server.url("/partial")) as r:
                for piece in r.iter_bytes():
                    pieces.append(piece)
        except BaseException as exc:
            errors.append(exc)

    consumer = start(consume)
    wait_for(lambda: bool(pieces), "the first piece")
    time.sleep(0.05)  # the consumer runs the loop, waiting for more
    began = time.monotonic()
    s.close()
    assert time.monotonic() - began < 3.0
    consumer.join(WAIT)
    assert not consumer.is_alive()
    assert pieces == [b"0123456789"]
    assert len(errors) == 1
    assert isinstance(errors[0], rawhttp.Error)
    assert "closed" in str(errors[0])
    wait_for(lambda: server.eofs == 1, "the stream's connection to be closed")
    wait_for(lambda: open_fds() <= before, "the descriptors to be closed")


def test_a_hook_calling_the_blocking_api_of_a_session_driven_by_another_thread(
    server: Server,
) -> None:
    """The hook of B's request runs in A, which drives: a call on the same session is
    still refused, never a hang; a one-shot call works (blocking the loop meanwhile)."""
    seen: list[object] = []
    with rawhttp.SyncSession(timeout=WAIT) as s:

        def hook(event: rawhttp.TraceEvent) -> None:
            if event.kind == "send" and not seen:
                try:
                    s.get(server.url("/echo"))
                except rawhttp.EventLoopRunning as exc:
                    seen.append(exc)
                seen.append(rawhttp.get(server.url("/echo"), headers={"X-Id": "g"}).text)

        a = start(lambda: s.get(server.url("/sleep?s=0.3")))
        wait_for(lambda: server.requests == 1, "A's request to be sent")
        assert s.get(server.url("/echo"), trace=hook).status == 200
        a.join(WAIT)
    assert len(seen) == 2
    assert isinstance(seen[0], rawhttp.EventLoopRunning)
    assert seen[1] == "id=g"
    assert server.requests == 3


def test_a_child_process_after_fork_gets_an_error_not_a_hang(server: Server) -> None:
    with rawhttp.SyncSession(timeout=WAIT) as s:
        assert s.get(server.url("/echo")).status == 200
        holder = start(lambda: s.get(server.url("/hold")))  # drives while the fork happens
        wait_for(lambda: server.held == 1, "the held request to be sent")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads
            pid = os.fork()
        if pid == 0:  # the child: report through the exit code only
            code = 9
            try:
                s.get(server.url("/echo"))
                code = 1
            except rawhttp.Error as exc:
                code = 0 if "fork" in str(exc) else 2
            except BaseException:
                code = 3
            os._exit(code)
        deadline = time.monotonic() + WAIT
        status = 0
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.01)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the child process hung")
        assert os.waitstatus_to_exitcode(status) == 0
        server.release.set()
        holder.join(WAIT)
        assert s.get(server.url("/echo")).status == 200  # the parent's session still works


def test_a_session_forgotten_inside_a_running_loop_is_still_closed(server: Server) -> None:
    """Its finalizer runs where no thread can wait for the loop: a short-lived thread
    of its own finishes the closing."""
    before = open_fds()
    s = rawhttp.SyncSession(timeout=WAIT)
    assert s.get(server.url("/echo")).status == 200
    holder = [s]
    del s

    async def forget() -> None:
        holder.clear()
        gc.collect()

    asyncio.run(forget())
    wait_for(lambda: server.eofs == 1, "the pooled connection to be closed")
    wait_for(lambda: open_fds() <= before, "the descriptors (and the loop's) to be closed")
