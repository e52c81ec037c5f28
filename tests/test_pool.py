"""Unit tests of the pool bookkeeping with fake connections (no sockets)."""

from __future__ import annotations

import asyncio
import random

import pytest

from rawhttp._pool import Pool, Waiter

A = ("http", "a.example", 80, True)
B = ("http", "b.example", 80, True)
C = ("http", "c.example", 80, True)


class FakeConn:
    """Implements what the pool needs of a connection (the ``Pooled`` protocol)."""

    _n = 0

    def __init__(self, key: object, *, usable: bool = True) -> None:
        FakeConn._n += 1
        self.name = f"c{FakeConn._n}"
        self.key = key
        self.idle_since = 0.0
        self.state = "active"
        self.usable = usable
        self.closed = 0

    def is_usable(self) -> bool:
        return self.usable and self.state != "closed"

    def close(self) -> None:
        self.closed += 1
        self.state = "closed"

    def __repr__(self) -> str:
        return f"<Fake {self.name} {self.key!r} {self.state}>"


def open_conn(pool: Pool, key: object, now: float = 0.0) -> FakeConn:
    """Check out a slot (must be granted) and 'open' a connection in it."""
    got = pool.checkout(key, now)
    assert got is True, got
    return FakeConn(key)


# -- reuse ------------------------------------------------------------------


def test_new_pool_is_empty() -> None:
    pool = Pool(3, 5.0)
    assert pool.count == 0
    assert pool.idle_count == 0
    assert pool.waiting == 0


@pytest.mark.parametrize("bad", [0, -1])
def test_max_connections_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError, match="max_connections"):
        Pool(bad, 5.0)


def test_checkout_reserves_a_slot_then_reuses_the_checked_in_connection() -> None:
    pool = Pool(3, 5.0)
    conn = open_conn(pool, A)
    assert pool.count == 1
    pool.checkin(conn, reusable=True, now=1.0)
    assert conn.state == "idle"
    assert conn.idle_since == 1.0
    assert pool.idle_count == 1
    assert pool.count == 1
    again = pool.checkout(A, 2.0)
    assert again is conn
    assert conn.state == "active"
    assert conn.closed == 0
    assert pool.idle_count == 0
    assert pool.count == 1


def test_reuse_is_lifo_per_key() -> None:
    pool = Pool(10, 100.0)
    conns = [open_conn(pool, A) for _ in range(3)]
    for i, conn in enumerate(conns):
        pool.checkin(conn, reusable=True, now=float(i))
    assert pool.checkout(A, 5.0) is conns[2]
    assert pool.checkout(A, 5.0) is conns[1]
    assert pool.checkout(A, 5.0) is conns[0]
    # Nothing idle left for A: a new slot is reserved.
    assert pool.checkout(A, 5.0) is True
    assert pool.count == 4


def test_connections_of_another_key_are_not_reused() -> None:
    pool = Pool(10, 100.0)
    a = open_conn(pool, A)
    pool.checkin(a, reusable=True, now=0.0)
    assert pool.checkout(B, 1.0) is True
    assert a.state == "idle"
    assert a.closed == 0
    assert pool.count == 2


def test_reuse_false_opens_a_new_connection_even_with_an_idle_one() -> None:
    pool = Pool(10, 100.0)
    a = open_conn(pool, A)
    pool.checkin(a, reusable=True, now=0.0)
    assert pool.checkout(A, 1.0, reuse=False) is True
    assert a.state == "idle"
    assert pool.count == 2


def test_reuse_false_at_the_limit_evicts_the_idle_connection() -> None:
    pool = Pool(1, 100.0)
    a = open_conn(pool, A)
    pool.checkin(a, reusable=True, now=0.0)
    assert pool.checkout(A, 1.0, reuse=False) is True
    assert a.closed == 1
    assert pool.count == 1
    assert pool.idle_count == 0


# -- the limit ----------------------------------------------------------------


def test_max_connections_is_never_exceeded() -> None:
    pool = Pool(2, 5.0)
    assert pool.checkout(A, 0.0) is True
    assert pool.checkout(B, 0.0) is True
    for key in (A, B, C):
        assert pool.checkout(key, 0.0) is False
    assert pool.count == 2


def test_eviction_of_oldest_idle_connection_of_another_key_at_the_limit() -> None:
    pool = Pool(3, 100.0)
    a = open_conn(pool, A)
    b1 = open_conn(pool, B)
    b2 = open_conn(pool, B)
    pool.checkin(b1, reusable=True, now=1.0)
    pool.checkin(a, reusable=True, now=2.0)
    pool.checkin(b2, reusable=True, now=3.0)
    # The pool is full of idle connections; C takes the slot of the longest idle one.
    assert pool.checkout(C, 4.0) is True
    assert b1.closed == 1
    assert (a.closed, b2.closed) == (0, 0)
    assert pool.count == 3
    assert pool.idle_count == 2
    assert pool.checkout(B, 4.0) is b2
    assert pool.checkout(A, 4.0) is a


def test_eviction_picks_the_key_with_the_longest_idle_connection() -> None:
    pool = Pool(2, 100.0)
    a = open_conn(pool, A)
    b = open_conn(pool, B)
    pool.checkin(b, reusable=True, now=1.0)
    pool.checkin(a, reusable=True, now=2.0)
    assert pool.checkout(C, 3.0) is True
    assert b.closed == 1
    assert a.closed == 0
    assert a.state == "idle"
    assert pool.count == 2
    # And the next one evicts a.
    assert pool.checkout(C, 4.0) is True
    assert a.closed == 1
    assert pool.count == 2
    assert pool.idle_count == 0
    # Now every slot is in use: nothing to evict.
    assert pool.checkout(A, 5.0) is False


def test_eviction_within_a_key_takes_the_oldest() -> None:
    pool = Pool(2, 100.0)
    first = open_conn(pool, B)
    second = open_conn(pool, B)
    pool.checkin(first, reusable=True, now=1.0)
    pool.checkin(second, reusable=True, now=2.0)
    assert pool.checkout(C, 3.0) is True
    assert first.closed == 1
    assert second.closed == 0
    # The remaining one is still reused for B.
    assert pool.checkout(B, 3.0) is second


def test_at_the_limit_own_idle_connection_is_reused_not_evicted() -> None:
    pool = Pool(2, 100.0)
    a = open_conn(pool, A)
    b = open_conn(pool, B)
    pool.checkin(a, reusable=True, now=0.0)
    pool.checkin(b, reusable=True, now=1.0)
    assert pool.checkout(B, 2.0) is b
    assert a.closed == 0
    assert pool.count == 2


# -- check-in ---------------------------------------------------------------


def test_checkin_not_reusable_closes_and_frees_the_slot() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    pool.checkin(a, reusable=False, now=0.0)
    assert a.closed == 1
    assert pool.count == 0
    assert pool.idle_count == 0


def test_checkin_of_unusable_connection_closes_it() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    a.usable = False
    pool.checkin(a, reusable=True, now=0.0)
    assert a.closed == 1
    assert pool.count == 0
    assert pool.idle_count == 0


def test_checkin_of_closed_connection_is_not_pooled() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    a.state = "closed"
    pool.checkin(a, reusable=True, now=0.0)
    assert pool.count == 0
    assert pool.idle_count == 0


def test_release_slot_without_waiters_decrements_count() -> None:
    pool = Pool(2, 5.0)
    assert pool.checkout(A, 0.0) is True
    pool.release_slot()
    assert pool.count == 0
    assert pool.checkout(A, 0.0) is True
    assert pool.checkout(A, 0.0) is True
    assert pool.checkout(A, 0.0) is False


# -- expiry and usability ---------------------------------------------------


def test_expired_idle_connection_is_retired_on_checkout() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    pool.checkin(a, reusable=True, now=10.0)
    assert pool.checkout(A, 15.0 + 0.001) is True  # idle 5.001 s > 5 s
    assert a.closed == 1
    assert pool.count == 1  # the retired one's slot went to the new reservation
    assert pool.idle_count == 0


def test_idle_connection_within_expiry_is_reused() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    pool.checkin(a, reusable=True, now=10.0)
    assert pool.checkout(A, 14.9) is a
    assert a.closed == 0


def test_no_expiry_when_keepalive_expiry_is_none() -> None:
    pool = Pool(2, None)
    a = open_conn(pool, A)
    pool.checkin(a, reusable=True, now=0.0)
    assert pool.checkout(A, 1e9) is a


def test_unusable_idle_connection_is_retired_and_next_one_reused() -> None:
    pool = Pool(5, 100.0)
    good = open_conn(pool, A)
    bad = open_conn(pool, A)
    pool.checkin(good, reusable=True, now=0.0)
    pool.checkin(bad, reusable=True, now=1.0)
    bad.usable = False  # e.g. the server closed it while it was idle
    assert pool.checkout(A, 2.0) is good
    assert bad.closed == 1
    assert good.closed == 0
    assert pool.count == 1
    assert pool.idle_count == 0


def test_all_idle_connections_stale_gives_a_new_slot() -> None:
    pool = Pool(3, 1.0)
    conns = [open_conn(pool, A) for _ in range(3)]
    for conn in conns:
        pool.checkin(conn, reusable=True, now=0.0)
    assert pool.checkout(A, 10.0) is True
    assert all(c.closed == 1 for c in conns)
    assert pool.count == 1
    assert pool.idle_count == 0


def test_close_idle_closes_only_idle_connections() -> None:
    pool = Pool(5, 100.0)
    a1, a2, b = open_conn(pool, A), open_conn(pool, A), open_conn(pool, B)
    busy = open_conn(pool, C)
    for conn in (a1, a2, b):
        pool.checkin(conn, reusable=True, now=0.0)
    pool.close_idle()
    assert [c.closed for c in (a1, a2, b)] == [1, 1, 1]
    assert busy.closed == 0
    assert pool.count == 1
    assert pool.idle_count == 0
    assert pool.checkout(A, 0.0) is True


# -- waiters ----------------------------------------------------------------


async def test_wait_when_full_and_fifo_handoff_of_returned_connection() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    assert pool.checkout(A, 0.0) is False
    w1 = pool.wait(A)
    w2 = pool.wait(A)
    assert isinstance(w1, Waiter)
    assert pool.waiting == 2
    pool.checkin(a, reusable=True, now=1.0)
    assert w1.future.done()
    assert w1.future.result() is a
    assert not w2.future.done()
    assert a.state == "active"
    assert a.closed == 0
    assert pool.idle_count == 0  # handed over, never idle
    assert pool.count == 1
    assert pool.waiting == 1
    pool.checkin(a, reusable=True, now=2.0)
    assert w2.future.result() is a
    assert pool.waiting == 0
    assert pool.count == 1


async def test_returned_connection_goes_to_first_same_key_waiter() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    wb = pool.wait(B)
    wa = pool.wait(A)
    pool.checkin(a, reusable=True, now=1.0)
    assert wa.future.result() is a
    assert not wb.future.done()
    assert pool.waiting == 1
    assert pool.count == 1


async def test_returned_connection_of_other_key_frees_slot_for_waiter() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    wb = pool.wait(B)
    pool.checkin(a, reusable=True, now=1.0)
    # No waiter for A: the connection is closed and its slot given to B's waiter.
    assert a.closed == 1
    assert wb.future.result() is None
    assert pool.count == 1
    assert pool.idle_count == 0
    assert pool.waiting == 0


async def test_slots_go_to_waiters_in_fifo_order() -> None:
    pool = Pool(2, 5.0)
    a = open_conn(pool, A)
    b = open_conn(pool, B)
    w1 = pool.wait(C)
    w2 = pool.wait(C)
    w3 = pool.wait(C)
    pool.checkin(b, reusable=False, now=1.0)
    assert w1.future.result() is None
    assert not w2.future.done()
    pool.release_slot()  # e.g. w1's connect failed
    assert w2.future.result() is None
    assert not w3.future.done()
    pool.checkin(a, reusable=True, now=2.0)
    assert a.closed == 1
    assert w3.future.result() is None
    assert pool.count == 2
    assert pool.waiting == 0


async def test_non_reusable_checkin_gives_slot_to_same_key_waiter() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    wa = pool.wait(A)
    pool.checkin(a, reusable=False, now=1.0)
    assert a.closed == 1
    assert wa.future.result() is None
    assert pool.count == 1


async def test_idle_connections_and_waiters_never_coexist() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = pool.wait(B)
    pool.checkin(a, reusable=True, now=0.0)
    assert not (pool.idle_count and pool.waiting)
    assert w.future.done()


async def test_cancel_wait_of_a_queued_waiter_removes_it() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = pool.wait(A)
    w2 = pool.wait(A)
    w1.future.cancel()
    pool.cancel_wait(w1)
    assert pool.waiting == 1
    pool.checkin(a, reusable=True, now=1.0)
    assert w2.future.result() is a
    assert pool.count == 1


async def test_cancel_wait_passes_on_a_handed_connection_to_next_waiter() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = pool.wait(A)
    w2 = pool.wait(A)
    pool.checkin(a, reusable=True, now=1.0)
    assert w1.future.result() is a
    # w1's task was cancelled before it could use the connection.
    pool.cancel_wait(w1)
    assert w2.future.result() is a
    assert a.closed == 0
    assert pool.count == 1
    assert pool.waiting == 0


async def test_cancel_wait_puts_a_handed_connection_back_when_nobody_waits() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = pool.wait(A)
    pool.checkin(a, reusable=True, now=1.0)
    pool.cancel_wait(w)
    assert a.state == "idle"
    assert a.closed == 0
    assert pool.idle_count == 1
    assert pool.count == 1
    assert pool.checkout(A, 2.0) is a


async def test_cancel_wait_passes_on_a_handed_slot() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    wb = pool.wait(B)
    wc = pool.wait(C)
    pool.checkin(a, reusable=False, now=1.0)
    assert wb.future.result() is None
    pool.cancel_wait(wb)  # gave up before opening: the slot goes to the next waiter
    assert wc.future.result() is None
    assert pool.count == 1
    assert pool.waiting == 0


async def test_cancel_wait_of_handed_slot_with_nobody_waiting_frees_it() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = pool.wait(B)
    pool.checkin(a, reusable=False, now=1.0)
    pool.cancel_wait(w)
    assert pool.count == 0  # no leaked slot
    assert pool.checkout(B, 2.0) is True


async def test_cancel_wait_of_handed_unusable_connection_frees_its_slot() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w = pool.wait(A)
    pool.checkin(a, reusable=True, now=1.0)
    a.usable = False  # went bad before the waiter could run
    pool.cancel_wait(w)
    assert a.closed == 1
    assert pool.count == 0
    assert pool.idle_count == 0


async def test_cancelled_future_is_skipped_on_release() -> None:
    pool = Pool(1, 5.0)
    open_conn(pool, A)
    w1 = pool.wait(B)
    w2 = pool.wait(B)
    w1.future.cancel()  # cancelled, but its task has not called cancel_wait yet
    pool.release_slot()
    assert w2.future.result() is None
    pool.cancel_wait(w1)
    assert pool.count == 1
    assert pool.waiting == 0


async def test_cancelled_future_is_skipped_on_connection_handoff() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = pool.wait(A)
    w2 = pool.wait(A)
    w1.future.cancel()
    pool.checkin(a, reusable=True, now=1.0)
    assert w2.future.result() is a
    pool.cancel_wait(w1)
    assert pool.count == 1
    assert pool.waiting == 0


async def test_fail_waiters_wakes_every_waiter_with_its_own_error() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    w1 = pool.wait(A)
    w2 = pool.wait(B)
    w3 = pool.wait(C)
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
    pool.checkin(a, reusable=False, now=1.0)
    assert pool.count == 0


async def test_waiter_gets_pool_connection_through_a_task() -> None:
    pool = Pool(1, 5.0)
    a = open_conn(pool, A)
    assert pool.checkout(A, 0.0) is False
    waiter = pool.wait(A)
    task = asyncio.ensure_future(waiter.future)
    await asyncio.sleep(0)
    assert not task.done()
    pool.checkin(a, reusable=True, now=1.0)
    assert await asyncio.wait_for(task, 1.0) is a


async def test_random_operations_keep_invariants() -> None:
    """A bounded random walk over the pool's operations, checking its invariants."""
    for seed in range(20):
        rng = random.Random(seed)
        limit = rng.randint(1, 4)
        pool = Pool(limit, 3.0)
        keys = [A, B, C]
        active: list[FakeConn] = []
        reserved = 0  # slots granted (checkout True / waiter None) not yet opened
        waiters: list[Waiter] = []
        now = 0.0
        for _ in range(300):
            now += rng.random()
            op = rng.random()
            if op < 0.35:
                key = rng.choice(keys)
                got = pool.checkout(key, now)
                if got is True:
                    reserved += 1
                elif got is False:
                    waiters.append(pool.wait(key))
                else:
                    assert isinstance(got, FakeConn)
                    assert got.state == "active"
                    assert got.key == key
                    active.append(got)
            elif op < 0.5 and reserved:
                reserved -= 1
                if rng.random() < 0.2:
                    pool.release_slot()  # connect failed
                else:
                    active.append(FakeConn(rng.choice(keys)))
            elif op < 0.8 and active:
                conn = active.pop(rng.randrange(len(active)))
                if rng.random() < 0.1:
                    conn.usable = False
                pool.checkin(conn, reusable=rng.random() < 0.8, now=now)
            elif op < 0.9 and waiters:
                waiter = waiters.pop(rng.randrange(len(waiters)))
                pool.cancel_wait(waiter)
            elif rng.random() < 0.3:
                # An idle connection goes bad (the server closed it).
                for conns in pool._idle.values():
                    if conns:
                        bad = rng.choice(conns)
                        assert isinstance(bad, FakeConn)
                        bad.usable = False
                        break
            # Collect waiters that were served.
            for waiter in list(waiters):
                if waiter.future.done():
                    waiters.remove(waiter)
                    given = waiter.future.result()
                    if given is None:
                        reserved += 1
                    else:
                        assert isinstance(given, FakeConn)
                        assert given.state == "active"
                        assert given.key == waiter.key
                        active.append(given)
            assert 0 <= pool.count <= limit
            assert not (pool.idle_count and pool.waiting), pool
            assert pool.count == pool.idle_count + len(active) + reserved, (seed, pool)
            assert pool.waiting == len(waiters)
            assert all(c.closed == 0 for c in active)
            assert all(c.state == "idle" for cs in pool._idle.values() for c in cs)
            assert len({id(c) for c in active}) == len(active)
        for waiter in waiters:
            waiter.future.cancel()
            pool.cancel_wait(waiter)


def test_repr() -> None:
    pool = Pool(4, 5.0)
    assert repr(pool) == "<Pool connections=0/4 idle=0 waiting=0>"
    a = open_conn(pool, A)
    open_conn(pool, B)
    pool.checkin(a, reusable=True, now=0.0)
    assert repr(pool) == "<Pool connections=2/4 idle=1 waiting=0>"


async def test_repr_counts_waiters() -> None:
    pool = Pool(1, 5.0)
    open_conn(pool, A)
    w = pool.wait(A)
    assert repr(pool) == "<Pool connections=1/1 idle=0 waiting=1>"
    w.future.cancel()
    pool.cancel_wait(w)
    assert repr(pool) == "<Pool connections=1/1 idle=0 waiting=0>"
