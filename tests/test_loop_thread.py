"""The machinery under SyncSession: a loop in a thread, and the bounded Pipe that
carries a streamed body across to the consuming thread."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import rawhttp
from rawhttp._loop_thread import MAX_PIECES, LoopThread, Pipe


async def nothing() -> None:
    return None


def test_the_pipe_holds_at_most_its_limit_and_wakes_the_producer_at_half() -> None:
    loop = asyncio.new_event_loop()
    try:
        pipe = Pipe(loop, 40)
        assert [pipe.put(b"%d" % i * 10) for i in range(3)] == [None, None, None]
        room = pipe.put(b"3" * 10)  # 40 bytes wait: full
        assert room is not None
        assert pipe.get() == b"0" * 10
        loop.run_until_complete(asyncio.sleep(0))
        assert not room.done()  # not woken per piece taken
        assert pipe.get() == b"1" * 10  # half of it taken: the producer may go on
        loop.run_until_complete(asyncio.wait_for(room, 1.0))
        assert [pipe.get(), pipe.get()] == [b"2" * 10, b"3" * 10]
        pipe.put(b"last")
        pipe.finish()
        assert (pipe.get(), pipe.get(), pipe.get()) == (b"last", None, None)
    finally:
        loop.close()


def test_the_pipe_also_bounds_the_number_of_tiny_pieces() -> None:
    loop = asyncio.new_event_loop()
    try:
        pipe = Pipe(loop, 1 << 20)
        rooms = [pipe.put(b"x") for _ in range(MAX_PIECES)]
        assert rooms[:-1] == [None] * (MAX_PIECES - 1)
        room = rooms[-1]
        assert room is not None
        for _ in range(MAX_PIECES // 2 - 1):
            pipe.get()
        loop.run_until_complete(asyncio.sleep(0))
        assert not room.done()
        pipe.get()  # half of the pieces taken
        loop.run_until_complete(asyncio.wait_for(room, 1.0))
    finally:
        loop.close()


def test_the_pipe_hands_over_the_producers_error_after_the_pieces() -> None:
    loop = asyncio.new_event_loop()
    try:
        pipe = Pipe(loop, 80)
        error = rawhttp.ReadTimeout("slow")
        pipe.put(b"a")
        pipe.finish(error)
        assert pipe.get() == b"a"
        with pytest.raises(rawhttp.ReadTimeout) as caught:
            pipe.get()
        assert caught.value is error
    finally:
        loop.close()


def test_a_waiting_consumer_is_woken_for_a_single_piece() -> None:
    """A slow body: one piece, then nothing for a while; it arrives without waiting for
    more pieces to fill a batch."""
    thread = LoopThread("rawhttp-test-loop", nothing)
    try:
        pipe = Pipe(thread.loop, 80)
        got: list[tuple[bytes | None, float]] = []
        consumer = threading.Thread(target=lambda: got.append((pipe.get(), time.monotonic())))
        consumer.start()
        time.sleep(0.05)  # the consumer now waits

        async def put_one() -> float:
            pipe.put(b"only")
            return time.monotonic()

        sent = thread.call(put_one)
        consumer.join(5)
        assert len(got) == 1
        assert got[0][0] == b"only"
        assert got[0][1] - sent < 1.0
    finally:
        thread.close()


def test_results_and_exceptions_cross_unchanged() -> None:
    thread = LoopThread("rawhttp-test-loop", nothing)
    error = rawhttp.ProtocolError("as raised")
    value = object()

    async def ok() -> object:
        return value

    async def bad() -> None:
        raise error

    try:
        assert thread.call(ok) is value
        with pytest.raises(rawhttp.ProtocolError) as caught:
            thread.call(bad)
        assert caught.value is error
    finally:
        thread.close()
    assert not any(t.name == "rawhttp-test-loop" for t in threading.enumerate())
    with pytest.raises(rawhttp.Error, match="closed"):
        thread.call(ok)


async def test_a_call_inside_a_running_loop_raises_event_loop_running() -> None:
    thread = LoopThread("rawhttp-test-loop", nothing)
    try:
        with pytest.raises(rawhttp.EventLoopRunning):
            thread.call(nothing)
    finally:
        thread.close()
