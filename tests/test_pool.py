"""The pool's bookkeeping with fake connections (no sockets).

The fake implements the ``Pooled`` protocol and decides reuse the way
``Connection.reusable`` does (tests/test_connection.py tests the real one), so the
two sets of tests meet.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from rawhttp._connection import ConnState
from rawhttp._pool import Open, Pool, PoolState, Reuse, Wait, Waiter

A = ("http", "a.example", 80, True)
B = ("http", "b.example", 80, True)
C = ("http", "c.example", 80, True)


class FakeConn:
    """What the pool needs of a connection (the ``Pooled`` protocol), deciding reuse as
    ``Connection.reusable`` does; ``usable=False`` stands for what a real connection
    sees on its socket (EOF, stray bytes, an error, a closing transport)."""

    _n = 0

    def __init__(self, key: object) -> None:
        FakeConn._n += 1
        self.name = f"c{FakeConn._n}"
        self.key = key
        self.idle_since = 0.0
        self.state = ConnState.ACTIVE
        self.keep_alive = True
        self.usable = True
        self.closed = 0

    def end_exchange(self, *, complete: bool, keep_alive: bool) -> None:
        self.keep_alive = self.keep_alive and complete and keep_alive

    def reusable(self, now: float, keepalive_expiry: float | None) -> bool:
        if self.state is ConnState.CLOSED or not self.keep_alive:
            return False
        idle = self.state is ConnState.IDLE and keepalive_expiry is not None
        if idle and now - self.idle_since > keepalive_expiry:  # type: ignore[operator]
            return False
        return self.usable

    def park(self, now: float) -> None:
        self.state = ConnState.IDLE
        self.idle_since = now

    def take(self) -> None:
        self.state = ConnState.ACTIVE

    def close(self) -> None:
        self.closed += 1
        self.state = ConnState.CLOSED

    def __repr__(self) -> str:
        return f"<Fake {self.name} {self.key!r} {self.state.value}>"


# -- helpers: the tagged results, a connection's life ------------------------------


def reused(got: Reuse | Open | Wait) -> FakeConn:
    """The connection of a Reuse result (any other result fails the test)."""
    assert isinstance(got, Reuse), got
    assert isinstance(got.connection, FakeConn)
    return got.connection


def is_open(got: object) -> bool:
    return isinstance(got, Open)


def waiting(got: Reuse | Open | Wait) -> Waiter:
    """The waiter of a Wait result (any other result fails the test)."""
    assert isinstance(got, Wait), got
    return got.waiter


def open_conn(pool: Pool, key: object, now: float = 0.0) -> FakeConn:
    """Check out a slot (must be granted) and 'open' a connection in it."""
    got = pool.checkout(key, now)
    assert is_open(got), got
    conn = FakeConn(key)
    pool.opened(conn)
    return conn


def must_wait(pool: Pool, key: object, now: float = 0.0) -> Waiter:
    """Check out when every slot is busy: the pool answers Wait."""
    return waiting(pool.checkout(key, now))


def done(pool: Pool, conn: FakeConn, *, now: float, reusable: bool = True) -> None:
    """An exchange on ``conn`` ended (``reusable=False``: one side said close) and the
    connection goes back to the pool, as the transport does."""
    conn.end_exchange(complete=True, keep_alive=reusable)
    pool.checkin(conn, now=now)


def given(waiter: Waiter) -> FakeConn | None:
    """What a served waiter was given: a connection (Reuse) or None (Open: a slot)."""
    result = waiter.future.result()
    if isinstance(result, Open):
        return None
    assert isinstance(result, Reuse), result
    assert isinstance(result.connection, FakeConn)
    return result.connection


# -- reuse ------------------------------------------------------------------


def test_new_pool_is_empty() -> None:
    pool = Pool(3, 5.0)
    assert pool.count == 0
    assert pool.idle_count == 0
    assert pool.waiting == 0
    assert pool.state == PoolState(0, 3, 0, 0, 0)


@pytest.mark.parametrize("bad", [0, -1])
def test_max_connections_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError, match="max_connections"):
        Pool(bad, 5.0)


def test_checkout_reserves_a_slot_then_reuses_the_checked_in_connection() -> None:
    pool = Pool(3, 5.0)
    conn = open_conn(pool, A)
    assert pool.count == 1
    done(pool, conn, now=1.0)
    assert conn.state is ConnState.IDLE
    assert conn.idle_since == 1.0
    assert pool.idle_count == 1
    assert pool.count == 1
    again = reused(pool.checkout(A, 2.0))
    assert again is conn
    assert conn.state is ConnState.ACTIVE
    assert conn.closed == 0
    assert pool.idle_count == 0
    assert pool.count == 1


def test_reuse_is_lifo_per_key() -> None:
    pool = Pool(10, 100.0)
    conns = [open_conn(pool, A) for _ in range(3)]
    for i, conn in enumerate(conns):
        done(pool, conn, now=float(i))
    assert reused(pool.checkout(A, 5.0)) is conns[2]
    assert reused(pool.checkout(A, 5.0)) is conns[1]
    assert reused(pool.checkout(A, 5.0)) is conns[0]
    # Nothing idle left for A: a new slot is reserved.
    assert is_open(pool.checkout(A, 5.0))
    assert pool.count == 4


def test_connections_of_another_key_are_not_reused() -> None:
    pool = Pool(10, 100.0)
    a = open_conn(pool, A)
    done(pool, a, now=0.0)
    assert is_open(pool.checkout(B, 1.0))
    assert a.state is ConnState.IDLE
    assert a.closed == 0
    assert pool.count == 2


def test_reuse_false_opens_a_new_connection_even_with_an_idle_one() -> None:
    pool = Pool(10, 100.0)
    a = open_conn(pool, A)
    done(pool, a, now=0.0)
    assert is_open(pool.checkout(A, 1.0, reuse=False))
    assert a.state is ConnState.IDLE
    assert pool.count == 2


def test_reuse_false_at_the_limit_evicts_the_idle_connection() -> None:
    pool = Pool(1, 100.0)
    a = open_conn(pool, A)
    done(pool, a, now=0.0)
    assert is_open(pool.checkout(A, 1.0, reuse=False))
    assert a.closed == 1
    assert pool.count == 1
    assert pool.idle_count == 0


# -- the limit ----------------------------------------------------------------


async def test_max_connections_is_never_exceeded() -> None:
    pool = Pool(2, 5.0)
    assert is_open(pool.checkout(A, 0.0))
    assert is_open(pool.checkout(B, 0.0))
    for key in (A, B, C):
        assert isinstance(pool.checkout(key, 0.0), Wait)
    assert pool.count == 2
    assert pool.waiting == 3


def test_eviction_of_oldest_idle_connection_of_another_key_at_the_limit() -> None:
    pool = Pool(3, 100.0)
    a = open_conn(pool, A)
    b1 = open_conn(pool, B)
    b2 = open_conn(pool, B)
    done(pool, b1, now=1.0)
    done(pool, a, now=2.0)
    done(pool, b2, now=3.0)
    # The pool is full of idle connections; C takes the slot of the longest idle one.
    assert is_open(pool.checkout(C, 4.0))
    assert b1.closed == 1
    assert (a.closed, b2.closed) == (0, 0)
    assert pool.count == 3
    assert pool.idle_count == 2
    assert reused(pool.checkout(B, 4.0)) is b2
    assert reused(pool.checkout(A, 4.0)) is a


async def test_eviction_picks_the_key_with_the_longest_idle_connection() -> None:
    pool = Pool(2, 100.0)
    a = open_conn(pool, A)
    b = open_conn(pool, B)
    done(pool, b, now=1.0)
    done(pool, a, now=2.0)
    assert is_open(pool.checkout(C, 3.0))
    assert b.closed == 1
    assert a.closed == 0
    assert a.state is ConnState.IDLE
    assert pool.count == 2
    # And the next one evicts a.
    assert is_open(pool.checkout(C, 4.0))
    assert a.closed == 1
    assert pool.count == 2
    assert pool.idle_count == 0
    # Now every slot is in use: nothing to evict.
    assert isinstance(pool.checkout(A, 5.0), Wait)


def test_eviction_within_a_key_takes_the_oldest() -> None:
    pool = Pool(2, 100.0)
    first = open_conn(pool, B)
    second = open_conn(pool, B)
    done(pool, first, now=1.0)
    done(pool, second, now=2.0)
    assert is_open(pool.checkout(C, 3.0))
    assert first.closed == 1
    assert second.closed == 0
    # The remaining one is still reused for B.
    assert reused(pool.checkout(B, 3.0)) is second


def test_at_the_limit_own_idle_connection_is_reused_not_evicted() -> None:
    pool = Pool(2, 100.0)
    a = open_conn(pool, A)
    b = open_conn(pool, B)
    done(pool, a, now=0.0)
    done(pool, b, now=1.0)
    assert reused(pool.checkout(B, 2.0)) is b
    assert a.closed == 0
    assert pool.count == 2


# -- check-in ---------------------------------------------------------------


def test_checkin_not_reusable_closes_and_frees_the_slot() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    done(pool, a, now=0.0, reusable=False)
    assert a.closed == 1
    assert pool.count == 0
    assert pool.idle_count == 0


def test_checkin_after_an_incomplete_exchange_closes_it() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    a.end_exchange(complete=False, keep_alive=True)  # the body was not read to its end
    pool.checkin(a, now=0.0)
    assert a.closed == 1
    assert pool.state == PoolState(0, 2, 0, 0, 0)


def test_checkin_of_unusable_connection_closes_it() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    a.usable = False
    done(pool, a, now=0.0)
    assert a.closed == 1
    assert pool.count == 0
    assert pool.idle_count == 0


def test_checkin_of_closed_connection_is_not_pooled() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    a.close()  # e.g. by close_in_use while its request ran
    done(pool, a, now=0.0)
    assert a.state is ConnState.CLOSED
    assert pool.count == 0
    assert pool.idle_count == 0


async def test_release_slot_without_waiters_decrements_count() -> None:
    pool = Pool(2, 5.0)
    assert is_open(pool.checkout(A, 0.0))
    pool.release_slot()
    assert pool.count == 0
    assert is_open(pool.checkout(A, 0.0))
    assert is_open(pool.checkout(A, 0.0))
    assert isinstance(pool.checkout(A, 0.0), Wait)


# -- connections in use --------------------------------------------------------------


def test_in_use_tracks_opened_reused_and_checked_in_connections() -> None:
    pool = Pool(3, 5.0)
    assert is_open(pool.checkout(A, 0.0))
    assert pool.state == PoolState(1, 3, 0, 0, 0)  # a slot reserved, nothing opened yet
    a = FakeConn(A)
    pool.opened(a)
    assert pool.state == PoolState(1, 3, 0, 1, 0)
    b = open_conn(pool, B)
    assert pool.state == PoolState(2, 3, 0, 2, 0)
    done(pool, a, now=1.0)
    assert pool.state == PoolState(2, 3, 1, 1, 0)
    assert reused(pool.checkout(A, 2.0)) is a
    assert pool.state == PoolState(2, 3, 0, 2, 0)
    done(pool, b, now=3.0, reusable=False)
    assert pool.state == PoolState(1, 3, 0, 1, 0)
    done(pool, a, now=4.0)
    assert pool.state == PoolState(1, 3, 1, 0, 0)


def test_close_in_use_closes_only_connections_in_use() -> None:
    pool = Pool(3, 5.0)
    idle = open_conn(pool, A)
    busy1, busy2 = open_conn(pool, A), open_conn(pool, B)
    done(pool, idle, now=0.0)
    pool.close_in_use()
    assert (busy1.closed, busy2.closed, idle.closed) == (1, 1, 0)
    # Each request's own release gives its slot back; the closed connection is not pooled.
    assert pool.state == PoolState(3, 3, 1, 2, 0)
    done(pool, busy1, now=1.0)
    done(pool, busy2, now=1.0)
    assert pool.state == PoolState(1, 3, 1, 0, 0)
    assert reused(pool.checkout(A, 2.0)) is idle


async def test_state_counts_waiters() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = must_wait(pool, B)
    assert pool.state == PoolState(1, 1, 0, 1, 1)
    assert pool.state.waiting == 1
    done(pool, a, now=1.0)
    assert given(w) is None
    assert pool.state == PoolState(1, 1, 0, 0, 0)  # a slot reserved for B's waiter


# -- expiry and usability ---------------------------------------------------


def test_expired_idle_connection_is_retired_on_checkout() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    done(pool, a, now=10.0)
    assert is_open(pool.checkout(A, 15.0 + 0.001))  # idle 5.001 s > 5 s
    assert a.closed == 1
    assert pool.count == 1  # the retired one's slot went to the new reservation
    assert pool.idle_count == 0


def test_idle_connection_within_expiry_is_reused() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    done(pool, a, now=10.0)
    assert reused(pool.checkout(A, 14.9)) is a
    assert a.closed == 0


def test_no_expiry_when_keepalive_expiry_is_none() -> None:
    pool = Pool(2, None)
    a = open_conn(pool, A)
    done(pool, a, now=0.0)
    assert reused(pool.checkout(A, 1e9)) is a


def test_unusable_idle_connection_is_retired_and_next_one_reused() -> None:
    pool = Pool(5, 100.0)
    good = open_conn(pool, A)
    bad = open_conn(pool, A)
    done(pool, good, now=0.0)
    done(pool, bad, now=1.0)
    bad.usable = False  # e.g. the server closed it while it was idle
    assert reused(pool.checkout(A, 2.0)) is good
    assert bad.closed == 1
    assert good.closed == 0
    assert pool.count == 1
    assert pool.idle_count == 0


def test_all_idle_connections_stale_gives_a_new_slot() -> None:
    pool = Pool(3, 1.0)
    conns = [open_conn(pool, A) for _ in range(3)]
    for conn in conns:
        done(pool, conn, now=0.0)
    assert is_open(pool.checkout(A, 10.0))
    assert all(c.closed == 1 for c in conns)
    assert pool.count == 1
    assert pool.idle_count == 0


def test_close_idle_closes_only_idle_connections() -> None:
    pool = Pool(5, 100.0)
    a1, a2, b = open_conn(pool, A), open_conn(pool, A), open_conn(pool, B)
    busy = open_conn(pool, C)
    for conn in (a1, a2, b):
        done(pool, conn, now=0.0)
    pool.close_idle()
    assert [c.closed for c in (a1, a2, b)] == [1, 1, 1]
    assert busy.closed == 0
    assert pool.count == 1
    assert pool.idle_count == 0
    assert is_open(pool.checkout(A, 0.0))


# -- waiters ----------------------------------------------------------------


async def test_wait_when_full_and_fifo_handoff_of_returned_connection() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = must_wait(pool, A)
    w2 = must_wait(pool, A)
    assert isinstance(w1, Waiter)
    assert pool.waiting == 2
    done(pool, a, now=1.0)
    assert w1.future.done()
    assert given(w1) is a
    assert not w2.future.done()
    assert a.state is ConnState.ACTIVE
    assert a.closed == 0
    assert pool.idle_count == 0  # handed over, never idle
    assert pool.count == 1
    assert pool.waiting == 1
    done(pool, a, now=2.0)
    assert given(w2) is a
    assert pool.waiting == 0
    assert pool.count == 1


async def test_returned_connection_goes_to_first_same_key_waiter() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    wb = must_wait(pool, B)
    wa = must_wait(pool, A)
    done(pool, a, now=1.0)
    assert given(wa) is a
    assert not wb.future.done()
    assert pool.waiting == 1
    assert pool.count == 1


async def test_returned_connection_of_other_key_frees_slot_for_waiter() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    wb = must_wait(pool, B)
    done(pool, a, now=1.0)
    # No waiter for A: the connection is closed and its slot given to B's waiter.
    assert a.closed == 1
    assert given(wb) is None
    assert pool.count == 1
    assert pool.idle_count == 0
    assert pool.waiting == 0


async def test_slots_go_to_waiters_in_fifo_order() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    b = open_conn(pool, B)
    w1 = must_wait(pool, C)
    w2 = must_wait(pool, C)
    w3 = must_wait(pool, C)
    done(pool, b, now=1.0, reusable=False)
    assert given(w1) is None
    assert not w2.future.done()
    pool.release_slot()  # e.g. w1's connect failed
    assert given(w2) is None
    assert not w3.future.done()
    done(pool, a, now=2.0)
    assert a.closed == 1
    assert given(w3) is None
    assert pool.count == 2
    assert pool.waiting == 0


async def test_non_reusable_checkin_gives_slot_to_same_key_waiter() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    wa = must_wait(pool, A)
    done(pool, a, now=1.0, reusable=False)
    assert a.closed == 1
    assert given(wa) is None
    assert pool.count == 1


async def test_idle_connections_and_waiters_never_coexist() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = must_wait(pool, B)
    done(pool, a, now=0.0)
    assert not (pool.idle_count and pool.waiting)
    assert w.future.done()


async def test_cancel_wait_of_a_queued_waiter_removes_it() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = must_wait(pool, A)
    w2 = must_wait(pool, A)
    w1.future.cancel()
    pool.cancel_wait(w1)
    assert pool.waiting == 1
    done(pool, a, now=1.0)
    assert given(w2) is a
    assert pool.count == 1


async def test_cancel_wait_passes_on_a_handed_connection_to_next_waiter() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = must_wait(pool, A)
    w2 = must_wait(pool, A)
    done(pool, a, now=1.0)
    assert given(w1) is a
    # w1's task was cancelled before it could use the connection.
    pool.cancel_wait(w1)
    assert given(w2) is a
    assert a.closed == 0
    assert pool.count == 1
    assert pool.waiting == 0


async def test_cancel_wait_puts_a_handed_connection_back_when_nobody_waits() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = must_wait(pool, A)
    done(pool, a, now=1.0)
    pool.cancel_wait(w)
    assert a.state is ConnState.IDLE
    assert a.closed == 0
    assert pool.idle_count == 1
    assert pool.count == 1
    assert reused(pool.checkout(A, 2.0)) is a


async def test_cancel_wait_passes_on_a_handed_slot() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    wb = must_wait(pool, B)
    wc = must_wait(pool, C)
    done(pool, a, now=1.0, reusable=False)
    assert given(wb) is None
    pool.cancel_wait(wb)  # gave up before opening: the slot goes to the next waiter
    assert given(wc) is None
    assert pool.count == 1
    assert pool.waiting == 0


async def test_cancel_wait_of_handed_slot_with_nobody_waiting_frees_it() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = must_wait(pool, B)
    done(pool, a, now=1.0, reusable=False)
    pool.cancel_wait(w)
    assert pool.count == 0  # no leaked slot
    assert is_open(pool.checkout(B, 2.0))


async def test_cancel_wait_of_handed_unusable_connection_frees_its_slot() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = must_wait(pool, A)
    done(pool, a, now=1.0)
    a.usable = False  # went bad before the waiter could run
    pool.cancel_wait(w)
    assert a.closed == 1
    assert pool.count == 0
    assert pool.idle_count == 0


async def test_cancelled_future_is_skipped_on_release() -> None:
    pool = Pool(1, 5.0)
    open_conn(pool, A)
    w1 = must_wait(pool, B)
    w2 = must_wait(pool, B)
    w1.future.cancel()  # cancelled, but its task has not called cancel_wait yet
    pool.release_slot()
    assert given(w2) is None
    pool.cancel_wait(w1)
    assert pool.count == 1
    assert pool.waiting == 0


async def test_cancelled_future_is_skipped_on_connection_handoff() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = must_wait(pool, A)
    w2 = must_wait(pool, A)
    w1.future.cancel()
    done(pool, a, now=1.0)
    assert given(w2) is a
    pool.cancel_wait(w1)
    assert pool.count == 1
    assert pool.waiting == 0


async def test_fail_waiters_wakes_every_waiter_with_its_own_error() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = must_wait(pool, A)
    w2 = must_wait(pool, B)
    w3 = must_wait(pool, C)
    w3.future.cancel()
    pool.fail_waiters(lambda: RuntimeError("closed"))
    assert pool.waiting == 0
    assert w3.future.cancelled()
    e1, e2 = w1.future.exception(), w2.future.exception()
    assert isinstance(e1, RuntimeError)
    assert isinstance(e2, RuntimeError)
    assert e1 is not e2
    # The woken tasks clean up: they were given nothing, so nothing is passed on.
    for waiter in (w1, w2, w3):
        pool.cancel_wait(waiter)
    assert pool.count == 1
    done(pool, a, now=1.0, reusable=False)
    assert pool.count == 0


async def test_waiter_gets_pool_connection_through_a_task() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    waiter = must_wait(pool, A)
    task = asyncio.ensure_future(waiter.future)
    await asyncio.sleep(0)
    assert not task.done()
    done(pool, a, now=1.0)
    assert await asyncio.wait_for(task, 1.0) == Reuse(a)
    assert isinstance(task.result(), Reuse)


async def test_random_operations_keep_invariants() -> None:
    """A bounded random walk over the pool's operations, checking its invariants."""
    for seed in range(20):
        rng = random.Random(seed)
        limit = rng.randint(1, 4)
        pool = Pool(limit, 3.0)
        keys = [A, B, C]
        every: list[FakeConn] = []  # every connection opened, retired or not
        active: list[FakeConn] = []
        reserved = 0  # slots granted (Open, from checkout or a waiter) not yet opened
        waiters: list[Waiter] = []
        now = 0.0
        for _ in range(300):
            now += rng.random()
            op = rng.random()
            if op < 0.35:
                key = rng.choice(keys)
                got = pool.checkout(key, now)
                if isinstance(got, Open):
                    reserved += 1
                elif isinstance(got, Wait):
                    waiters.append(got.waiter)
                else:
                    conn = reused(got)
                    assert conn.state is ConnState.ACTIVE
                    assert conn.key == key
                    active.append(conn)
            elif op < 0.5 and reserved:
                reserved -= 1
                if rng.random() < 0.2:
                    pool.release_slot()  # connect failed
                else:
                    conn = FakeConn(rng.choice(keys))
                    pool.opened(conn)
                    every.append(conn)
                    active.append(conn)
            elif op < 0.8 and active:
                conn = active.pop(rng.randrange(len(active)))
                if rng.random() < 0.1:
                    conn.usable = False
                done(pool, conn, now=now, reusable=rng.random() < 0.8)
            elif op < 0.9 and waiters:
                waiter = waiters.pop(rng.randrange(len(waiters)))
                pool.cancel_wait(waiter)
            elif rng.random() < 0.3:
                # An idle connection goes bad (the server closed it).
                idle = [c for c in every if c.state is ConnState.IDLE]
                if idle:
                    rng.choice(idle).usable = False
            # Collect waiters that were served.
            for waiter in list(waiters):
                if waiter.future.done():
                    waiters.remove(waiter)
                    conn_given = given(waiter)
                    if conn_given is None:
                        reserved += 1
                    else:
                        assert conn_given.state is ConnState.ACTIVE
                        assert conn_given.key == waiter.key
                        active.append(conn_given)
            state = pool.state
            idle_now = [c for c in every if c.state is ConnState.IDLE]
            assert 0 <= state.connections <= limit
            assert not (state.idle and state.waiting), pool
            assert state.connections == state.idle + len(active) + reserved, (seed, pool)
            assert state.idle == len(idle_now), (seed, pool)
            assert state.in_use == len(active), (seed, pool)
            assert state.waiting == len(waiters)
            assert all(c.closed == 0 for c in active)
            assert all(c.closed == 0 for c in idle_now)
            assert all(c.closed <= 1 for c in every)  # retired once
            assert len({id(c) for c in active}) == len(active)
        for waiter in waiters:
            waiter.future.cancel()
            pool.cancel_wait(waiter)


def test_repr() -> None:
    pool = Pool(4, 5.0)
    assert repr(pool) == "<Pool connections=0/4 idle=0 in_use=0 waiting=0>"
    a = open_conn(pool, A)
    open_conn(pool, B)
    done(pool, a, now=0.0)
    assert repr(pool) == "<Pool connections=2/4 idle=1 in_use=1 waiting=0>"


async def test_repr_counts_waiters() -> None:
    pool = Pool(1, 5.0)
    open_conn(pool, A)
    w = must_wait(pool, A)
    assert repr(pool) == "<Pool connections=1/1 idle=0 in_use=1 waiting=1>"
    w.future.cancel()
    pool.cancel_wait(w)
    assert repr(pool) == "<Pool connections=1/1 idle=0 in_use=1 waiting=0>"
