"""The machinery under SyncSession: one event loop run by whichever calling thread
waits (SharedLoop), the helper threads that wait for callers inside another running
loop, and the bounded Pipe that carries a streamed body to the thread consuming it.
No network here; every wait is bounded."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import rawhttp
from rawhttp._helper_threads import Helpers
from rawhttp._pipe import MAX_PIECES, Pipe
from rawhttp._shared_loop import SharedLoop

WAIT = 10.0


async def nothing() -> None:
    return None


@pytest.fixture
def shared() -> Iterator[SharedLoop]:
    loop = SharedLoop(nothing)
    yield loop
    loop.close()


def start_thread(target: Callable[[], object]) -> threading.Thread:
    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def feed(shared: SharedLoop, pipe: Pipe, *pieces: bytes, end: bool = False) -> None:
    """Put ``pieces`` (and the end) into ``pipe`` on the loop, from this thread."""

    def put() -> None:
        for piece in pieces:
            pipe.put(piece)
        if end:
            pipe.finish()

    shared.soon(put)


# -- calls -------------------------------------------------------------------------------


def test_a_call_runs_on_the_calling_thread_with_no_thread_of_its_own(shared: SharedLoop) -> None:
    before = set(threading.enumerate())

    async def where() -> threading.Thread:
        await asyncio.sleep(0.01)  # the loop really runs: a timer fires
        return threading.current_thread()

    assert [shared.call(where) for _ in range(3)] == [threading.current_thread()] * 3
    assert set(threading.enumerate()) == before


def test_results_and_exceptions_cross_unchanged(shared: SharedLoop) -> None:
    error = rawhttp.ProtocolError("as raised")
    value = object()

    async def ok() -> object:
        return value

    async def bad() -> None:
        raise error

    assert shared.call(ok) is value
    with pytest.raises(rawhttp.ProtocolError) as caught:
        shared.call(bad)
    assert caught.value is error
    shared.close()
    assert shared.loop.is_closed()
    with pytest.raises(rawhttp.Error, match="the session is closed"):
        shared.call(ok)


def test_the_driver_role_passes_to_a_thread_whose_call_is_pending(shared: SharedLoop) -> None:
    """A drives; B's call is scheduled meanwhile and sleeps.  A's call ends first and
    A leaves: B must take the loop over (nobody else runs it) and finish there."""
    b_may_end = threading.Event()
    b_sleeping = threading.Event()
    seen: dict[str, object] = {}

    async def a_call() -> str:
        b = start_thread(lambda: seen.setdefault("b", shared.call(b_call)))
        seen["b_thread"] = b
        await asyncio.sleep(0.05)  # B's task now exists and B sleeps on its wait
        b_sleeping.set()
        return "a"

    async def b_call() -> threading.Thread:
        while not b_may_end.is_set():  # set only after A has returned
            await asyncio.sleep(0.005)
        return threading.current_thread()

    assert shared.call(a_call) == "a"  # returns while B's call is still pending
    assert b_sleeping.is_set()
    assert "b" not in seen
    b_may_end.set()
    b_thread = seen["b_thread"]
    assert isinstance(b_thread, threading.Thread)
    b_thread.join(WAIT)
    assert seen["b"] is b_thread  # B's call finished on B's own thread, B driving


def test_calls_from_many_threads_all_answered(shared: SharedLoop) -> None:
    results: list[int] = []

    async def work(n: int) -> int:
        await asyncio.sleep(0.001 * (n % 3))
        return n

    def caller(base: int) -> None:
        for i in range(20):
            results.append(shared.call(functools.partial(work, base + i)))

    threads = [start_thread(functools.partial(caller, b * 100)) for b in range(6)]
    for t in threads:
        t.join(WAIT)
    assert sorted(results) == sorted(b * 100 + i for b in range(6) for i in range(20))


def test_close_from_another_thread_cancels_the_call_being_driven(shared: SharedLoop) -> None:
    started = threading.Event()
    outcome: list[BaseException] = []

    async def forever() -> None:
        started.set()
        await asyncio.sleep(WAIT * 10)

    def caller() -> None:
        try:
            shared.call(forever)
        except BaseException as exc:
            outcome.append(exc)

    t = start_thread(caller)
    assert started.wait(WAIT)
    began = time.monotonic()
    shared.close()  # the other thread drives: close() waits for it to finish closing
    assert time.monotonic() - began < 3.0
    t.join(WAIT)
    assert len(outcome) == 1
    assert isinstance(outcome[0], rawhttp.Error)
    assert "closed" in str(outcome[0])
    assert shared.loop.is_closed()


def test_a_call_inside_another_running_loop_runs_on_a_helper_thread(
    shared: SharedLoop,
) -> None:
    """The caller's loop cannot run this one: a helper thread does, in the caller's
    context; results and exceptions cross unchanged; the caller's loop is blocked
    meanwhile; one helper serves one caller's calls one after the other."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var")
    error = rawhttp.ProtocolError("as raised")
    value = object()

    async def where() -> tuple[threading.Thread, str]:
        await asyncio.sleep(0.01)
        return threading.current_thread(), var.get()

    async def bad() -> None:
        raise error

    async def ok() -> object:
        return value

    async def caller() -> None:
        var.set("the caller's")
        ticks: list[int] = []
        asyncio.get_running_loop().call_soon(ticks.append, 1)
        thread, seen = shared.call(where)
        assert ticks == []  # blocked meanwhile
        assert thread is not threading.current_thread()
        assert thread.name == "rawhttp-sync-helper"
        assert seen == "the caller's"
        assert shared.call(ok) is value
        with pytest.raises(rawhttp.ProtocolError) as caught:
            shared.call(bad)
        assert caught.value is error
        for _ in range(10):
            assert shared.call(where)[0] is thread

    asyncio.run(caller())
    assert len(shared.helpers.threads) == 1
    shared.close()
    assert not any(t.is_alive() for t in shared.helpers.threads)
    with pytest.raises(rawhttp.Error, match="the session is closed"):
        asyncio.run(caller())


def test_close_inside_another_running_loop_waits_and_ends_the_helpers(
    shared: SharedLoop,
) -> None:
    started = threading.Event()
    outcome: list[BaseException] = []

    async def forever() -> None:
        started.set()
        await asyncio.sleep(WAIT * 10)

    async def call_forever() -> None:
        try:
            shared.call(forever)
        except rawhttp.Error as exc:
            outcome.append(exc)

    t = start_thread(lambda: asyncio.run(call_forever()))
    assert started.wait(WAIT)

    async def close() -> None:
        shared.close()

    began = time.monotonic()
    asyncio.run(close())
    assert time.monotonic() - began < 3.0
    assert shared.loop.is_closed()
    assert len(shared.helpers.threads) == 2  # one per caller: the closer's, the other's
    assert not any(h.is_alive() for h in shared.helpers.threads)
    t.join(WAIT)
    assert len(outcome) == 1
    assert "closed" in str(outcome[0])


def test_helpers_never_queue_a_function_behind_a_running_one() -> None:
    helpers = Helpers()
    release = threading.Event()
    results: list[str] = []
    first = start_thread(lambda: results.append(helpers.run(lambda: str(release.wait(WAIT)))))
    wait_for(lambda: len(helpers.threads) == 1, "the first function to start")
    assert helpers.run(lambda: "second") == "second"  # a second thread, at once
    assert len(helpers.threads) == 2
    release.set()
    first.join(WAIT)
    assert results == ["True"]
    assert helpers.run(lambda: "third") == "third"  # an idle one, reused
    assert len(helpers.threads) == 2
    helpers.stop()
    helpers.join(WAIT)
    assert not any(t.is_alive() for t in helpers.threads)
    with pytest.raises(rawhttp.Error, match="closed"):
        helpers.run(lambda: None)


def test_a_call_from_inside_the_loop_it_drives_raises(shared: SharedLoop) -> None:
    async def nested() -> str:
        try:
            shared.call(nothing)
        except rawhttp.EventLoopRunning:
            return "refused"
        return "ran"

    assert shared.call(nested) == "refused"


# -- the pipe ----------------------------------------------------------------------------


def test_the_pipe_holds_at_most_its_limit_and_wakes_the_producer_at_half(
    shared: SharedLoop,
) -> None:
    loop = shared.loop
    pipe = Pipe(shared, 40)
    assert [pipe.put(b"%d" % i * 10) for i in range(3)] == [None, None, None]
    room = pipe.put(b"3" * 10)  # 40 bytes wait: full
    assert room is not None
    pieces = pipe.pieces(lambda: None, lambda: None)
    assert next(pieces) == b"0" * 10
    assert not room.done()  # not woken per piece taken
    assert next(pieces) == b"1" * 10  # half of it taken: the producer may go on
    loop.run_until_complete(asyncio.wait_for(room, 1.0))
    assert [next(pieces), next(pieces)] == [b"2" * 10, b"3" * 10]
    pipe.put(b"last")
    pipe.finish()
    assert list(pieces) == [b"last"]


def test_a_text_pipe_counts_characters(shared: SharedLoop) -> None:
    pipe: Pipe[str] = Pipe(shared, 40)
    assert [pipe.put("\u00e9\u2603" * 5) for _ in range(3)] == [None, None, None]
    assert pipe.put("\U0001f600" * 10) is not None  # 40 characters (100 UTF-8 bytes)
    pipe.finish()
    assert "".join(pipe.pieces(lambda: None, lambda: None)) == "\u00e9\u2603" * 15 + (
        "\U0001f600" * 10
    )


def test_the_pipe_also_bounds_the_number_of_tiny_pieces(shared: SharedLoop) -> None:
    pipe = Pipe(shared, 1 << 20)
    rooms = [pipe.put(b"x") for _ in range(MAX_PIECES)]
    assert rooms[:-1] == [None] * (MAX_PIECES - 1)
    room = rooms[-1]
    assert room is not None
    pieces = pipe.pieces(lambda: None, lambda: None)
    for _ in range(MAX_PIECES // 2 - 1):
        next(pieces)
    assert not room.done()
    next(pieces)  # half of the pieces taken
    shared.loop.run_until_complete(asyncio.wait_for(room, 1.0))


def test_the_pipe_hands_over_the_producers_error_after_the_pieces(shared: SharedLoop) -> None:
    pipe = Pipe(shared, 80)
    error = rawhttp.ReadTimeout("slow")
    pipe.put(b"a")
    pipe.finish(error)
    pieces = pipe.pieces(lambda: None, lambda: None)
    assert next(pieces) == b"a"
    with pytest.raises(rawhttp.ReadTimeout) as caught:
        next(pieces)
    assert caught.value is error


def test_a_consumer_driving_the_loop_gets_a_single_slow_piece_at_once(
    shared: SharedLoop,
) -> None:
    """One piece, then nothing for long: the consumer, which runs the loop itself, gets
    it as soon as the loop has nothing else to do, not once a batch is full."""
    pipe = Pipe(shared, 1 << 20)

    async def later() -> None:
        await asyncio.sleep(0.02)
        pipe.put(b"only")
        await asyncio.sleep(WAIT)  # the body then stalls

    task: list[asyncio.Task[None]] = []

    async def start() -> None:
        task.append(asyncio.get_running_loop().create_task(later()))

    pieces = pipe.pieces(lambda: shared.call(start), lambda: None)
    began = time.monotonic()
    assert next(pieces) == b"only"
    assert time.monotonic() - began < 1.0
    task[0].cancel()


def test_a_sleeping_consumer_gets_a_piece_while_another_thread_keeps_the_loop_busy(
    shared: SharedLoop,
) -> None:
    """Another thread drives and keeps the loop from ever idling: the piece still
    reaches the consumer, a moment later (WAKE_DELAY), not once the batch is full."""
    pipe = Pipe(shared, 1 << 20)
    busy_running = threading.Event()
    stop_busy = threading.Event()

    async def busy() -> None:
        busy_running.set()
        deadline = time.monotonic() + WAIT
        while not stop_busy.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0)  # always something ready: the loop never blocks

    driver = start_thread(lambda: shared.call(busy))
    assert busy_running.wait(WAIT)
    got: list[tuple[bytes, float]] = []
    consumer = start_thread(
        lambda: got.extend((p, time.monotonic()) for p in pipe.pieces(lambda: None, lambda: None))
    )
    time.sleep(0.05)  # the consumer now sleeps: the other thread drives
    sent = time.monotonic()
    feed(shared, pipe, b"piece")
    wait_for(lambda: bool(got), "the piece to reach the sleeping consumer")
    assert got[0][0] == b"piece"
    assert got[0][1] - sent < 1.0
    feed(shared, pipe, end=True)
    consumer.join(WAIT)
    stop_busy.set()
    driver.join(WAIT)
    assert not consumer.is_alive()
    assert not driver.is_alive()
