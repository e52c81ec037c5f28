"""The real Connection: its state (ConnState, set by its own park/take/close), its
repr, and the one reuse decision (``Connection.reusable`` fed by ``end_exchange``),
over a socket pair with rawhttp's own reader and protocol."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from rawhttp._connection import Connection, ConnState
from rawhttp._open import open_connection
from rawhttp._pool import Open, Pool, PoolState
from rawhttp._protocol import Protocol, Writer
from rawhttp._reader import Reader

A = ("http", "a.example", 80, True)


# -- the real Connection: its state and its reuse decision -----------------------------


@pytest.fixture
async def pair() -> AsyncIterator[tuple[Connection, socket.socket]]:
    """A Connection over one end of a socket pair (rawhttp's Reader, Protocol and
    asyncio's transport), and the other end, a plain socket standing for the server."""
    ours, theirs = socket.socketpair()
    reader, writer = await open_connection(sock=ours)
    conn = Connection(reader, writer, A, "http://a.example")
    try:
        yield conn, theirs
    finally:
        conn.close()
        theirs.close()
        await asyncio.sleep(0)  # the transport closes its socket on the next iteration


async def settle(conn: Connection, *, reusable: bool) -> None:
    """Let the loop read what the peer did, until ``conn.reusable`` says ``reusable``
    (bounded: fails after 2 s)."""
    for _ in range(200):
        if conn.reusable(0.0, None) is reusable:
            return
        await asyncio.sleep(0.01)
    assert conn.reusable(0.0, None) is reusable


async def test_connection_states_and_repr(pair: tuple[Connection, socket.socket]) -> None:
    conn, _ = pair
    assert conn.state is ConnState.ACTIVE
    assert repr(conn) == "<Connection http://a.example active requests=0>"
    conn.park(3.0)
    assert (conn.state, conn.idle_since) == (ConnState.IDLE, 3.0)
    assert repr(conn) == "<Connection http://a.example idle requests=0>"
    conn.take()
    assert conn.state is ConnState.ACTIVE
    conn.requests += 2
    assert repr(conn) == "<Connection http://a.example active requests=2>"
    conn.close()
    assert conn.state is ConnState.CLOSED
    assert repr(conn) == "<Connection http://a.example closed requests=2>"
    assert [s.value for s in ConnState] == ["active", "idle", "closed"]


async def test_a_fresh_connection_is_reusable(pair: tuple[Connection, socket.socket]) -> None:
    conn, _ = pair
    assert conn.reusable(0.0, 5.0)
    conn.end_exchange(complete=True, keep_alive=True)
    assert conn.reusable(0.0, 5.0)


async def test_closed_connection_is_not_reusable(pair: tuple[Connection, socket.socket]) -> None:
    conn, _ = pair
    calls: list[str] = []
    conn.on_close = lambda: calls.append("closed")
    conn.close()
    assert not conn.reusable(0.0, None)
    assert conn.writer.transport.is_closing()
    conn.close()  # idempotent: on_close runs once
    assert calls == ["closed"]
    assert conn.on_close is None


@pytest.mark.parametrize(("complete", "keep_alive"), [(False, True), (True, False), (False, False)])
async def test_an_exchange_that_forbids_another_ends_reuse_for_good(
    pair: tuple[Connection, socket.socket], complete: bool, keep_alive: bool
) -> None:
    conn, _ = pair
    conn.end_exchange(complete=complete, keep_alive=keep_alive)
    assert not conn.keep_alive
    assert not conn.reusable(0.0, None)
    conn.end_exchange(complete=True, keep_alive=True)  # a later good exchange cannot undo it
    assert not conn.reusable(0.0, None)
    conn.park(0.0)
    assert not conn.reusable(0.0, None)


async def test_expiry_counts_only_while_idle(pair: tuple[Connection, socket.socket]) -> None:
    conn, _ = pair
    assert conn.reusable(1e9, 5.0)  # active: however long ago idle_since was
    conn.park(10.0)
    assert conn.reusable(15.0, 5.0)
    assert not conn.reusable(15.001, 5.0)
    assert conn.reusable(1e9, None)  # no expiry
    conn.take()
    assert conn.reusable(1e9, 5.0)  # carrying a request again: not expired


async def test_eof_from_the_server_ends_reuse(pair: tuple[Connection, socket.socket]) -> None:
    conn, theirs = pair
    theirs.shutdown(socket.SHUT_WR)
    await settle(conn, reusable=False)
    assert conn.state is ConnState.ACTIVE  # the connection notices; the pool retires it


async def test_stray_bytes_end_reuse_while_buffered(
    pair: tuple[Connection, socket.socket],
) -> None:
    conn, theirs = pair
    theirs.sendall(b"HTTP/1.1 200 OK\r\n")  # nobody asked: its next response can't be trusted
    await settle(conn, reusable=False)
    # It is the buffered bytes that decide: once read, nothing else is wrong.
    assert await conn.reader.readexactly(17) == b"HTTP/1.1 200 OK\r\n"
    assert conn.reusable(0.0, None)


async def test_reader_exception_ends_reuse(pair: tuple[Connection, socket.socket]) -> None:
    conn, _ = pair
    conn.reader.set_exception(ConnectionResetError("reset by peer"))
    assert not conn.reusable(0.0, None)


async def test_closing_transport_ends_reuse(pair: tuple[Connection, socket.socket]) -> None:
    conn, _ = pair
    conn.writer.close()  # not through conn.close(): the state alone would not tell
    assert conn.state is ConnState.ACTIVE
    assert not conn.reusable(0.0, None)


async def test_pool_asks_the_real_connection(pair: tuple[Connection, socket.socket]) -> None:
    conn, theirs = pair
    pool = Pool(2, 5.0)
    assert isinstance(pool.checkout(A, 0.0), Open)
    pool.opened(conn)
    pool.checkin(conn, now=1.0)
    assert conn.state is ConnState.IDLE
    assert pool.state == PoolState(1, 2, 1, 0, 0)
    theirs.shutdown(socket.SHUT_WR)  # the server closes it while idle
    await settle(conn, reusable=False)
    assert isinstance(pool.checkout(A, 2.0), Open)  # retired, its slot given to a new one
    assert conn.state is ConnState.CLOSED
    assert pool.state == PoolState(1, 2, 0, 0, 0)


class FakeTransport(asyncio.Transport):
    """A transport that records how it was closed; ``tls``: it reports an SSL context."""

    def __init__(self, *, tls: bool) -> None:
        super().__init__()
        self.tls = tls
        self.calls: list[str] = []

    def get_extra_info(self, name: str, default: object = None) -> object:
        return object() if name == "sslcontext" and self.tls else default

    def is_closing(self) -> bool:
        return bool(self.calls)

    def close(self) -> None:
        self.calls.append("close")

    def abort(self) -> None:
        self.calls.append("abort")


@pytest.mark.parametrize(("tls", "how"), [(True, "abort"), (False, "close")])
async def test_tls_connection_is_aborted_plain_one_closed(tls: bool, how: str) -> None:
    transport = FakeTransport(tls=tls)
    reader = Reader()
    writer = Writer(transport, Protocol(reader))
    conn = Connection(reader, writer, A, "https://a.example")
    assert conn.reusable(0.0, None)
    conn.close()
    conn.close()
    assert transport.calls == [how]
    assert not conn.reusable(0.0, None)


@pytest.mark.parametrize("tls", [True, False])
async def test_a_close_hook_that_raises_still_closes_the_socket(tls: bool) -> None:
    transport = FakeTransport(tls=tls)
    reader = Reader()
    writer = Writer(transport, Protocol(reader))
    conn = Connection(reader, writer, A, "https://a.example")

    def hook() -> None:
        raise ValueError("the hook failed")

    conn.on_close = hook
    with pytest.raises(ValueError, match="the hook failed"):
        conn.close()
    assert transport.calls == ["abort" if tls else "close"]
    assert conn.state is ConnState.CLOSED
    conn.close()  # once only: the hook is not called again
    assert transport.calls == ["abort" if tls else "close"]
