"""rawhttp's Reader on its own (no sockets): StreamReader's semantics for the parser
(readline, readexactly, read, at_eof), the steps that take buffered bytes without
waiting, one deadline per operation, flow control against a fake transport, and the
buffer growing while bodies stream and shrinking when idle."""

from __future__ import annotations

import asyncio

import pytest

import rawhttp._buffer
from rawhttp import IncompleteBody, ProtocolError, ReadTimeout
from rawhttp._reader import HIGH_WATER, INITIAL_SIZE, LOW_WATER, MAX_SIZE, Reader

DATA = b"HTTP/1.1 200 OK\r\nA: 1\nB: 2\r\n\r\nbody bytes" + b"x" * 40000 + b"\nlast"


async def fed(data: bytes, how: str, *, eof: bool = True) -> Reader:
    """A reader given ``data`` whole or byte by byte, then EOF."""
    reader = Reader()
    if how == "whole":
        reader.feed(data)
    else:
        for i in range(len(data)):
            reader.feed(data[i : i + 1])
    if eof:
        reader.feed_eof()
    return reader


@pytest.mark.parametrize("how", ["whole", "byte_by_byte"])
async def test_readline_returns_lines_then_the_rest_at_eof(how: str) -> None:
    reader = await fed(b"one\r\ntwo\nthree", how)
    assert await reader.readline() == b"one\r\n"
    assert await reader.readline() == b"two\n"
    assert not reader.at_eof()
    assert await reader.readline() == b"three"
    assert reader.at_eof()
    assert await reader.readline() == b""


@pytest.mark.parametrize("how", ["whole", "byte_by_byte"])
async def test_readexactly_read_and_take_keep_every_byte_in_order(how: str) -> None:
    reader = await fed(DATA, how)
    assert reader.buffered == len(DATA)
    got = [await reader.readexactly(5), reader.take(3), await reader.read(7)]
    got.append(await reader.readline(MAX_SIZE))
    got.append(reader.take_head(1000) or b"")
    got.append(await reader.read())
    assert b"".join(got) == DATA
    assert reader.at_eof()
    assert reader.buffered == 0
    assert await reader.read(10) == b""


async def test_readexactly_at_eof_is_an_incomplete_body() -> None:
    reader = await fed(b"abc", "whole")
    with pytest.raises(IncompleteBody, match="after 3 of 5 expected bytes") as caught:
        await reader.readexactly(5)
    assert (caught.value.received, caught.value.expected) == (3, 5)


@pytest.mark.parametrize("how", ["whole", "byte_by_byte"])
async def test_a_line_longer_than_its_limit_is_a_protocol_error(how: str) -> None:
    reader = await fed(b"a" * 10 + b"\n", how, eof=False)
    with pytest.raises(ProtocolError, match="status line longer than 9 bytes") as caught:
        await reader.readline(9, None, "status line")
    assert caught.value.rule == "limit"
    reader = await fed(b"a" * 10 + b"\n", how)
    assert await reader.readline(11) == b"a" * 10 + b"\n"  # the LF counts: 11 fits


async def test_a_long_line_without_lf_is_refused_before_it_ends() -> None:
    """Bounded memory: the limit applies to bytes buffered, not to a line that never ends."""
    reader = Reader()
    reader.feed(b"a" * 100)
    with pytest.raises(ProtocolError, match="longer than 100 bytes"):
        await asyncio.wait_for(reader.readline(100), 5)


@pytest.mark.parametrize(
    ("data", "head", "rest"),
    [
        (b"A: 1\r\nB: 2\r\n\r\nbody", b"A: 1\r\nB: 2\r\n\r\n", b"body"),
        (b"A: 1\nB: 2\n\nA: 3\r\n\r\n", b"A: 1\nB: 2\n\n", b"A: 3\r\n\r\n"),
        (b"\r\nX", b"\r\n", b"X"),
        (b"\nX", b"\n", b"X"),
    ],
)
async def test_take_head_takes_a_whole_section_only(data: bytes, head: bytes, rest: bytes) -> None:
    reader = Reader()
    for cut in range(len(head)):  # not whole yet: nothing taken
        reader.feed(data[:cut])
        assert reader.take_head(1000) is None or head in (b"\r\n", b"\n")
        reader.take(cut)
    reader.feed(data)
    assert reader.take_head(len(head)) == head
    assert reader.peek(100) == rest


async def test_take_head_declines_a_section_over_its_size() -> None:
    reader = await fed(b"A: 1\r\nB: 2\r\n\r\n", "whole")
    assert reader.take_head(11) is None  # its lines are 12 bytes
    assert reader.take_head(12) == b"A: 1\r\nB: 2\r\n\r\n"


async def test_a_stored_error_comes_before_buffered_bytes() -> None:
    reader = await fed(b"hello\n", "whole", eof=False)
    reader.set_exception(ConnectionResetError("reset"))
    with pytest.raises(ConnectionResetError):
        reader.take(5)
    with pytest.raises(ConnectionResetError):
        await reader.readline()


async def test_one_timer_for_a_whole_operation() -> None:
    """readexactly() waits several times; one call_at bounds all of them."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    armed: list[float] = []
    real_call_at = loop.call_at

    def call_at(when: float, callback, *args):  # type: ignore[no-untyped-def]
        armed.append(when)
        return real_call_at(when, callback, *args)

    loop.call_at = call_at  # type: ignore[method-assign]
    try:
        task = asyncio.create_task(reader.readexactly(5, loop.time() + 5))
        for byte in b"hello":
            await asyncio.sleep(0)
            reader.feed(bytes([byte]))
        assert await task == b"hello"
    finally:
        del loop.call_at
    assert len(armed) == 1


async def test_the_deadline_raises_read_timeout_and_keeps_the_bytes() -> None:
    loop = asyncio.get_running_loop()
    reader = Reader()
    reader.feed(b"partial")
    started = loop.time()
    with pytest.raises(ReadTimeout):
        await reader.readline(100, loop.time() + 0.05)
    assert 0.04 < loop.time() - started < 2
    reader.feed(b" line\n")  # a partial line stays buffered: nothing is lost
    assert await reader.readline(100, loop.time() + 1) == b"partial line\n"


async def test_no_timer_when_the_bytes_are_buffered() -> None:
    loop = asyncio.get_running_loop()
    reader = await fed(b"line\n", "whole")
    # A deadline already past does not matter when nothing has to be waited for.
    assert await reader.readline(100, loop.time() - 1) == b"line\n"


class CountingTimers:
    """Patches ``loop.call_at`` to record every timer scheduled (its handle too)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.handles: list[asyncio.TimerHandle] = []
        self.real = loop.call_at

    def __enter__(self) -> CountingTimers:
        def call_at(when: float, callback, *args):  # type: ignore[no-untyped-def]
            handle = self.real(when, callback, *args)
            self.handles.append(handle)
            return handle

        self.loop.call_at = call_at  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.loop.call_at


async def test_one_timer_across_the_operations_of_a_keep_alive_connection() -> None:
    """Ten waiting operations in a row, each with its own deadline a little later:
    the timer scheduled for the first stays and bounds them all (no call_at and
    cancel per response)."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    with CountingTimers(loop) as timers:
        for i in range(10):
            task = asyncio.create_task(reader.readline(100, loop.time() + 5 + i / 100))
            await asyncio.sleep(0)
            reader.feed(b"line %d\n" % i)
            assert await task == b"line %d\n" % i
    assert len(timers.handles) == 1
    assert not timers.handles[0].cancelled()


async def test_a_later_deadline_after_an_earlier_one_is_kept() -> None:
    """The pending timer fires at the first operation's deadline; the operation armed
    now has a later one, so it is not timed out then but at its own."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    task = asyncio.create_task(reader.readline(100, loop.time() + 0.05))
    await asyncio.sleep(0)
    reader.feed(b"first\n")
    assert await task == b"first\n"
    started = loop.time()
    task = asyncio.create_task(reader.readline(100, started + 0.3))
    await asyncio.sleep(0.15)  # past the first deadline: still waiting
    assert not task.done()
    reader.feed(b"second\n")
    assert await task == b"second\n"
    with pytest.raises(ReadTimeout):
        await reader.readline(100, loop.time() + 0.2)
    assert loop.time() - started >= 0.15 + 0.2


async def test_an_earlier_deadline_after_a_later_one_fires_at_its_time() -> None:
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    task = asyncio.create_task(reader.readline(100, loop.time() + 30))
    await asyncio.sleep(0)
    reader.feed(b"first\n")
    assert await task == b"first\n"
    started = loop.time()
    with pytest.raises(ReadTimeout):
        await reader.readline(100, started + 0.05)
    assert 0.04 < loop.time() - started < 2


@pytest.mark.parametrize("end", ["eof", "error"])
async def test_the_end_of_the_connection_cancels_the_pending_timer(end: str) -> None:
    """An idle connection that ends does not leave a timer holding its reader (and
    its buffer) until the last deadline."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    with CountingTimers(loop) as timers:
        task = asyncio.create_task(reader.readline(100, loop.time() + 30))
        await asyncio.sleep(0)
        reader.feed(b"line\n")
        assert await task == b"line\n"
    assert len(timers.handles) == 1
    assert not timers.handles[0].cancelled()
    if end == "eof":
        reader.feed_eof()
    else:
        reader.set_exception(ConnectionResetError("reset"))
    assert timers.handles[0].cancelled()


async def test_a_connection_ending_during_a_wait_ends_it_and_cancels_the_timer() -> None:
    """EOF completes the pending wait (nothing more will come to wait for), so the
    timer bounding it is cancelled at once; the operation returns what there is."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    with CountingTimers(loop) as timers:
        task = asyncio.create_task(reader.readline(100, loop.time() + 30))
        await asyncio.sleep(0)
        reader.feed(b"partial")
        assert not timers.handles[0].cancelled()  # the wait goes on: no LF yet
        reader.feed_eof()
        assert timers.handles[0].cancelled()
        assert await task == b"partial"
    assert len(timers.handles) == 1


async def test_a_deadline_that_passed_between_waits_ends_the_next_wait_at_once() -> None:
    """An operation arms each of its waits with its one deadline.  When that deadline
    passes while no wait is pending (the parser busy, bytes having just come), the
    next wait armed with it raises at once: a server trickling bytes cannot stretch
    an operation past its deadline."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    deadline = loop.time() + 0.05
    wait = reader.more(deadline)
    reader.feed(b"x")
    await wait  # bytes came: this wait is over, the deadline still runs
    await asyncio.sleep(0.15)  # the timer fires with no wait pending
    with pytest.raises(ReadTimeout):
        reader.more(deadline)
    wait = reader.more(loop.time() + 5)  # a later deadline waits as before
    reader.feed(b"y")
    await wait
    assert reader.take(10) == b"xy"


async def test_a_line_trickling_in_times_out_at_its_deadline() -> None:
    """A byte every 10 ms, never a LF: readline's deadline bounds the whole line, not
    each wait."""
    loop = asyncio.get_running_loop()
    reader = Reader(loop)

    async def trickle() -> None:
        for _ in range(300):
            reader.feed(b"a")
            await asyncio.sleep(0.01)

    feeder = asyncio.create_task(trickle())
    started = loop.time()
    try:
        with pytest.raises(ReadTimeout):
            await reader.readline(10_000, started + 0.2)
        assert 0.15 < loop.time() - started < 1.5
    finally:
        feeder.cancel()


async def test_a_timed_out_wait_keeps_what_was_buffered() -> None:
    loop = asyncio.get_running_loop()
    reader = Reader(loop)
    reader.feed(b"HTTP/1.1 1")
    with pytest.raises(ReadTimeout):
        await reader.readline(100, loop.time() + 0.02)
    reader.feed(b"00 Continue\r\n")
    assert await reader.readline(100, loop.time() + 5) == b"HTTP/1.1 100 Continue\r\n"


class Recorder:
    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def received(self, data: bytes) -> None:
        self.pieces.append(data)

    async def flush(self) -> None:
        return None


def test_a_traced_head_taken_whole_is_seen_line_by_line() -> None:
    """take_head() takes a whole section in one step; an observer (trace=, the
    command's --trace) still sees one piece per line, as if read line by line."""
    head = b"HTTP/1.1 200 OK\r\nA: 1\nB: 2\r\n\r\nbody"
    reader = Reader()
    reader.feed(head)
    recorder = Recorder()
    reader.observer = recorder
    assert reader.take_line(100) == b"HTTP/1.1 200 OK\r\n"
    assert reader.take_head(1000) == b"A: 1\nB: 2\r\n\r\n"
    assert recorder.pieces == [b"HTTP/1.1 200 OK\r\n", b"A: 1\n", b"B: 2\r\n", b"\r\n"]
    assert reader.take(10) == b"body"


class FakeTransport:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def receive(reader: Reader, n: int) -> None:
    """What the protocol does for a receive of ``n`` bytes (as many as fit)."""
    while n:
        view = reader.get_buffer()
        k = min(n, len(view))
        view[:k] = b"z" * k
        del view
        reader.buffer_updated(k)
        n -= k


async def test_flow_control_pauses_past_the_high_mark_and_resumes_when_drained() -> None:
    reader = Reader()
    transport = FakeTransport()
    reader.transport = transport
    receive(reader, HIGH_WATER - 1)
    assert transport.calls == []
    assert not reader.paused
    receive(reader, 1)
    assert transport.calls == ["pause"]
    assert reader.paused
    reader.take(HIGH_WATER - LOW_WATER - 1)
    assert transport.calls == ["pause"]  # still above the low mark
    reader.take(1)
    assert transport.calls == ["pause", "resume"]
    assert not reader.paused


async def test_a_waiting_reader_resumes_a_paused_transport() -> None:
    reader = Reader()
    transport = FakeTransport()
    reader.transport = transport
    receive(reader, HIGH_WATER)
    assert reader.paused
    task = asyncio.create_task(reader.readexactly(HIGH_WATER + 1))
    await asyncio.sleep(0)
    assert transport.calls == ["pause", "resume"]  # it needs more than is buffered
    receive(reader, 1)
    assert len(await task) == HIGH_WATER + 1


async def test_the_buffer_grows_while_receives_fill_it_and_shrinks_when_idle() -> None:
    reader = Reader()
    assert reader.capacity == INITIAL_SIZE
    for _ in range(12):  # a body streaming: each receive fills what was offered
        view = reader.get_buffer()
        n = len(view)
        del view
        reader.buffer_updated(n)
        reader.take(n)
    assert reader.capacity == MAX_SIZE  # doubled up to the most, no further
    reader.relax()
    assert reader.capacity == INITIAL_SIZE


async def test_small_receives_keep_the_buffer_small() -> None:
    reader = Reader()
    for _ in range(100):
        receive(reader, 300)
        reader.take(300)
    assert reader.capacity == INITIAL_SIZE


async def test_relax_keeps_a_buffer_holding_bytes() -> None:
    reader = Reader()
    receive(reader, INITIAL_SIZE * 3)
    assert reader.capacity > INITIAL_SIZE
    reader.relax()
    assert reader.buffered == INITIAL_SIZE * 3  # nothing is dropped
    reader.take(reader.buffered)
    reader.relax()
    assert reader.capacity == INITIAL_SIZE


async def test_unread_bytes_are_kept_across_compaction_and_growth() -> None:
    reader = Reader()
    data = bytes(range(256)) * 1000
    out = []
    i = 0
    while i < len(data):  # receives of odd sizes, taken a little behind
        view = reader.get_buffer()
        k = min(len(view), 7919, len(data) - i)
        view[:k] = data[i : i + k]
        del view
        reader.buffer_updated(k)
        i += k
        out.append(reader.take(5003))
    reader.feed_eof()
    out.append(await reader.read())
    assert b"".join(out) == data


@pytest.fixture
def spares(monkeypatch: pytest.MonkeyPatch) -> list[bytearray]:
    """The process-wide spare buffers, empty for the test (and restored after)."""
    fresh: list[bytearray] = []
    monkeypatch.setattr(rawhttp._buffer, "_spares", fresh)
    return fresh


def grown() -> Reader:
    """A reader whose buffer grew to MAX_SIZE while a body streamed, all of it taken."""
    reader = Reader()
    while reader.capacity < MAX_SIZE:
        view = reader.get_buffer()
        n = len(view)
        del view
        reader.buffer_updated(n)
        reader.take(n)
    return reader


async def test_an_idle_grown_buffer_is_kept_as_a_spare_for_the_next_body(
    spares: list[bytearray],
) -> None:
    first = grown()
    first.relax()
    assert first.capacity == INITIAL_SIZE
    assert [len(b) for b in spares] == [MAX_SIZE]
    second = Reader()
    receive(second, INITIAL_SIZE)  # one receive fills the small buffer: a body streams
    second.take(INITIAL_SIZE)
    view = second.get_buffer()
    del view
    assert second.capacity == MAX_SIZE  # the spare at once, not 32 KiB
    assert spares == []


async def test_a_spare_buffer_carries_no_bytes_of_its_last_connection(
    spares: list[bytearray],
) -> None:
    first = Reader()
    first.feed(b"secret" * (MAX_SIZE // 8))  # unread: the buffer grows to 1 MiB
    while first.buffered:
        first.take(MAX_SIZE)
    first.relax()
    assert len(spares) == 1
    second = Reader()
    second.feed(b"x" * INITIAL_SIZE + b"yz")  # grows into the spare
    assert second.capacity == MAX_SIZE
    second.feed_eof()
    assert await second.read() == b"x" * INITIAL_SIZE + b"yz"


async def test_at_most_spares_buffers_are_kept(spares: list[bytearray]) -> None:
    readers = [grown() for _ in range(rawhttp._buffer.SPARES + 2)]
    for reader in readers:
        reader.relax()
    assert len(spares) == rawhttp._buffer.SPARES
    # a buffer that grew past MAX_SIZE (a head longer than 1 MiB) is not a spare
    big = Reader()
    receive(big, MAX_SIZE + 100)  # on its way it took a spare (and dropped it)
    assert big.capacity > MAX_SIZE
    kept = len(spares)
    big.take(big.buffered)
    big.relax()
    assert big.capacity == INITIAL_SIZE
    assert len(spares) == kept


async def test_a_buffer_holding_bytes_is_not_given_away(spares: list[bytearray]) -> None:
    reader = grown()
    receive(reader, 10)
    reader.relax()
    assert spares == []
    assert reader.take(100) == b"z" * 10
