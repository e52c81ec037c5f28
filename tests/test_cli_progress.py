"""The ``rawhttp`` progress meter: on a terminal only, at most ~10 refreshes a second.

The command's stderr is the slave side of a pseudo-terminal (in raw mode, so the
bytes read from the master are the bytes written); the body comes slowly from a
raw loopback server in the test's event loop.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import pty
import re
import subprocess
import sys
import time
import tty
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, read_message

import rawhttp

MakeServer = Callable[..., Awaitable[RawServer]]
Handler = Callable[[RawConnection], Awaitable[None]]

PIECE = 10_000
PIECES = 20
SIZE = PIECE * PIECES


@pytest.fixture(scope="module", autouse=True)
def compiled_package() -> None:
    """.pyc files for rawhttp, as an installed package has (see test_cli.py)."""
    package = pathlib.Path(rawhttp.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


def slow_body(*, chunked: bool = False, pause: float = 0.05) -> Handler:
    """SIZE bytes in PIECES pieces, ``pause`` seconds apart (about 1 s in all)."""

    async def handler(conn: RawConnection) -> None:
        await read_message(conn)
        framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % SIZE
        await conn.send(b"HTTP/1.1 200 OK\r\n" + framing + b"\r\n\r\n")
        for i in range(PIECES):
            piece = bytes([65 + i]) * PIECE
            await conn.send(b"%x\r\n%s\r\n" % (PIECE, piece) if chunked else piece)
            await asyncio.sleep(pause)
        if chunked:
            await conn.send(b"0\r\n\r\n")

    return handler


def expected_body() -> bytes:
    return b"".join(bytes([65 + i]) * PIECE for i in range(PIECES))


async def run_on_terminal(
    *args: str, cwd: pathlib.Path, stdout_too: bool = False
) -> tuple[int, bytes, bytes, float]:
    """Run the command with stderr (and with ``stdout_too`` stdout) on a
    pseudo-terminal: (exit status, stdout, what reached the terminal, seconds)."""
    master, slave = pty.openpty()
    tty.setraw(slave)  # no "\n" -> "\r\n": the terminal shows the bytes as written
    os.set_blocking(master, False)
    loop = asyncio.get_running_loop()
    seen: list[bytes] = []

    def drain() -> bool:
        """Read what is there; False once the terminal is hung up (EIO)."""
        while True:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not data:
                return False
            seen.append(data)

    def readable() -> None:
        if not drain():
            loop.remove_reader(master)

    loop.add_reader(master, readable)
    try:
        start = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "rawhttp", *args),
            stdin=subprocess.DEVNULL,
            stdout=slave if stdout_too else subprocess.PIPE,
            stderr=slave,
            cwd=cwd,
        )
        os.close(slave)
        slave = -1
        out, _ = await asyncio.wait_for(proc.communicate(), 30)
        seconds = time.monotonic() - start
        loop.remove_reader(master)
        drain()
    finally:
        loop.remove_reader(master)
        if slave != -1:
            os.close(slave)
        os.close(master)
    assert proc.returncode is not None
    return proc.returncode, out, b"".join(seen), seconds


async def test_progress_on_a_terminal(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    server = await raw_server(slow_body())
    code, out, terminal, seconds = await run_on_terminal("-o", "body", server.url(), cwd=tmp_path)
    assert (code, out) == (0, b"")
    assert (tmp_path / "body").read_bytes() == expected_body()
    assert seconds > 0.9
    assert b"Traceback" not in terminal
    # one line, redrawn in place, finished with a newline
    assert terminal.startswith(b"\r")
    assert terminal.endswith(b"\n")
    assert terminal.count(b"\n") == 1
    updates = terminal[:-1].split(b"\r")[1:]
    last = updates[-1].decode()
    assert "100.0%" in last
    assert "195.3 KiB" in last  # the bytes done
    assert "/s" in last
    assert "ETA 0:00:00" in last
    # refreshed while the body came in (about 1 s), at most ~10 times a second
    assert len(updates) >= 4, terminal
    assert len(updates) <= seconds * 10 + 3, (len(updates), seconds, terminal)
    percents = [float(u.decode().split("%")[0].split()[-1]) for u in updates]
    assert percents == sorted(percents)
    assert percents[0] < 100.0


async def test_progress_without_a_known_length(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(slow_body(chunked=True, pause=0.03))
    code, _, terminal, seconds = await run_on_terminal("-o", "body", server.url(), cwd=tmp_path)
    assert code == 0
    assert (tmp_path / "body").read_bytes() == expected_body()
    assert terminal.startswith(b"\r")
    assert terminal.endswith(b"\n")
    updates = terminal[:-1].split(b"\r")[1:]
    assert len(updates) <= seconds * 10 + 3
    assert b"%" not in terminal  # no percent, no ETA: the length is unknown
    assert b"ETA" not in terminal
    assert b"195.3 KiB" in updates[-1]
    assert b"/s" in updates[-1]


async def test_no_progress_when_silent(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    server = await raw_server(slow_body(pause=0.01))
    code, _, terminal, _ = await run_on_terminal("-s", "-o", "body", server.url(), cwd=tmp_path)
    assert (code, terminal) == (0, b"")
    assert (tmp_path / "body").read_bytes() == expected_body()


async def test_no_progress_when_the_body_goes_to_a_terminal(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(slow_body(pause=0.01))
    code, out, terminal, _ = await run_on_terminal(server.url(), cwd=tmp_path, stdout_too=True)
    assert (code, out or b"") == (0, b"")
    assert terminal == expected_body()  # the body alone: no meter between its bytes


async def test_progress_when_the_body_goes_to_a_pipe(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    """As curl's: the meter shows whenever the body does not go to a terminal."""
    server = await raw_server(slow_body(pause=0.01))
    code, out, terminal, _ = await run_on_terminal(server.url(), cwd=tmp_path)
    assert (code, out) == (0, expected_body())
    assert terminal.startswith(b"\r")
    assert terminal.endswith(b"\n")
    assert b"100.0%" in terminal
    # and never with -s
    server = await raw_server(slow_body(pause=0.01))
    code, out, terminal, _ = await run_on_terminal("-s", server.url(), cwd=tmp_path)
    assert (code, out, terminal) == (0, expected_body(), b"")


async def test_progress_when_stderr_is_not_a_terminal(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    """curl shows its meter in a file or pipe too: there, without escape codes."""
    server = await raw_server(slow_body(pause=0.02))
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "rawhttp", "-o", "body", server.url()),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert (proc.returncode, out) == (0, b"")
    assert re.fullmatch(rb"(\r[^\r\n\x1b]+)+\n", err), err
    assert b"100.0%" in err
    assert (tmp_path / "body").read_bytes() == expected_body()


async def test_progress_is_finished_when_the_transfer_fails(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    async def short(conn: RawConnection) -> None:
        await read_message(conn)
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)

    server = await raw_server(short)
    code, _, terminal, _ = await run_on_terminal("-o", "body", server.url(), cwd=tmp_path)
    assert code == 18
    # the meter's line is ended before the error line, which has a line of its own
    assert terminal.startswith(b"\r")
    meter, _, error = terminal.partition(b"\n")
    assert b"5.0%" in meter.split(b"\r")[-1]
    assert error.startswith(b"rawhttp: (18) ")
    assert error.endswith(b"\n")
    assert b"Traceback" not in terminal
