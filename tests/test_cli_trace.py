"""``rawhttp --trace/--trace-ascii/--trace-time``: the dump parsed back must give exactly
the bytes the server received and sent, split into heads and bodies as curl splits
them.  The layout helpers and the head/body split are also tested on plain data."""

from __future__ import annotations

import datetime
import io
import pathlib
import re
import subprocess
import sys
from dataclasses import dataclass

import pytest
from conftest import RawConnection, read_message
from test_cli import MakeServer, answer, assert_error, cli, response, routes, shell

import rawhttp
from rawhttp.cli._display import TraceDump, WireLog, ascii_lines, hex_lines


@pytest.fixture(scope="module", autouse=True)
def compiled_package() -> None:
    """.pyc files for rawhttp, as an installed package has (see test_cli.py)."""
    package = pathlib.Path(rawhttp.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


# -- reading a --trace dump back ------------------------------------------------------------

STAMP = rb"(\d\d:\d\d:\d\d\.\d{6}) "
LABEL = re.compile(
    rb"(?:%s)?(=> Send|<= Recv) (header|data), (\d+) bytes \(0x([0-9a-f]+)\)" % STAMP
)
INFO = re.compile(rb"(?:%s)?== Info: (.*)" % STAMP)
HEX_ROW = re.compile(rb"([0-9a-f]{4}): ((?:[0-9a-f]{2} |   ){16})(.*)", re.DOTALL)
SHOWN = bytes(c if 0x20 <= c < 0x80 else ord(".") for c in range(256))


@dataclass
class Block:
    direction: bytes  # b"=> Send" or b"<= Recv"
    kind: bytes  # b"header" or b"data"
    data: bytes
    stamp: bytes | None


@dataclass
class Trace:
    blocks: list[Block]
    infos: list[bytes]

    def joined(self, direction: bytes, kind: bytes | None = None) -> bytes:
        return b"".join(
            b.data for b in self.blocks if b.direction == direction and kind in (None, b.kind)
        )

    def pieces(self, direction: bytes, kind: bytes) -> list[bytes]:
        return [b.data for b in self.blocks if b.direction == direction and b.kind == kind]


def parse_hex_trace(text: bytes) -> Trace:
    """Every block of a --trace dump, checked line by line: the size in the label,
    the offsets, the hex column and the text column agree with each other."""
    blocks: list[Block] = []
    infos: list[bytes] = []
    lines = text.split(b"\n")
    assert lines.pop() == b"", "the dump ends with a newline"
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        info = INFO.fullmatch(line)
        if info:
            infos.append(info.group(2))
            continue
        label = LABEL.fullmatch(line)
        assert label, line
        stamp, direction, kind, size, size_hex = label.groups()
        assert int(size) == int(size_hex, 16)
        data = b""
        while len(data) < int(size):
            row = HEX_ROW.fullmatch(lines[i])
            assert row, lines[i]
            i += 1
            offset, hexed, shown = row.groups()
            assert int(offset, 16) == len(data)
            piece = bytes.fromhex(hexed.decode())
            assert len(piece) == min(16, int(size) - len(data))
            assert hexed == b"".join(b"%02x " % c for c in piece).ljust(48)  # lower case, padded
            assert shown == piece.translate(SHOWN)
            data += piece
        assert data, "no empty blocks"
        blocks.append(Block(direction, kind, data, stamp))
    return Trace(blocks, infos)


def head_of(message: bytes) -> bytes:
    return message[: message.index(b"\r\n\r\n") + 4]


def body_of(message: bytes) -> bytes:
    return message[message.index(b"\r\n\r\n") + 4 :]


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Odd: caf\xe9 \xff~\r\n\r\n"
    b"5\r\nhello\r\n10;ext=x\r\n" + bytes(range(16)) + b"\r\n0\r\nX-Trailer: yes\r\n\r\n"
)


# -- --trace end to end --------------------------------------------------------------------


async def test_trace_has_every_byte_of_a_chunked_exchange(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(answer(CHUNKED))
    run = await cli("--trace", "dump.txt", server.url("/path?q=1"), cwd=tmp_path)
    assert (run.code, run.err) == (0, b"")
    assert run.out == b"hello" + bytes(range(16))
    trace = parse_hex_trace((tmp_path / "dump.txt").read_bytes())
    assert trace.joined(b"=> Send") == server.requests[0]
    assert trace.pieces(b"=> Send", b"header") == [server.requests[0]]  # a GET: head only
    assert trace.joined(b"<= Recv") == CHUNKED
    assert trace.joined(b"<= Recv", b"header") == head_of(CHUNKED)
    assert trace.joined(b"<= Recv", b"data") == body_of(CHUNKED)  # chunked framing included
    # one block per head line received, as curl shows them
    assert trace.pieces(b"<= Recv", b"header") == head_of(CHUNKED).splitlines(keepends=True)
    assert [b.direction + b" " + b.kind for b in trace.blocks][:2] == [
        b"=> Send header",
        b"<= Recv header",
    ]
    assert trace.infos[0] == b"  Trying 127.0.0.1:%d..." % server.port  # as curl's
    assert trace.infos[1] == b"Connected to 127.0.0.1 (127.0.0.1) port %d (#0)" % server.port
    assert all(b.stamp is None for b in trace.blocks)


async def test_trace_splits_a_request_head_from_its_body(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    payload = b"line 1\r\n\r\nline 2 \x00\xff" * 10
    (tmp_path / "payload").write_bytes(payload)
    server = await raw_server(answer(response(b"ok")))
    run = await cli("--trace", "t", "--data-binary", "@payload", server.url(), cwd=tmp_path)
    assert (run.code, run.out) == (0, b"ok")
    trace = parse_hex_trace((tmp_path / "t").read_bytes())
    assert trace.joined(b"=> Send", b"header") == head_of(server.requests[0])
    assert trace.joined(b"=> Send", b"data") == payload  # CRLFCRLF in the body is data
    assert trace.joined(b"<= Recv") == response(b"ok")


async def test_trace_with_location_over_two_connections(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    final = response(b"over there", "X-Where: b")
    other = await raw_server(answer(final))
    first = response(b"see other", f"Location: {other.url('/b')}", status="302 Found")
    server = await raw_server(answer(first))
    run = await cli("-L", "--trace", "t", server.url("/a"), cwd=tmp_path)
    assert (run.code, run.out) == (0, b"over there")
    trace = parse_hex_trace((tmp_path / "t").read_bytes())
    assert [info for info in trace.infos if info.startswith(b"Connected")] == [
        b"Connected to 127.0.0.1 (127.0.0.1) port %d (#0)" % server.port,
        b"Connected to 127.0.0.1 (127.0.0.1) port %d (#1)" % other.port,
    ]
    assert trace.pieces(b"=> Send", b"header") == [server.requests[0], other.requests[0]]
    assert trace.joined(b"<= Recv") == first + final
    assert trace.joined(b"<= Recv", b"data") == b"see other" + b"over there"
    # each request's bytes come after the "Connected" note of its connection
    text = (tmp_path / "t").read_bytes()
    assert text.index(b"(#1)") < text.index(b"GET /b ")


async def test_trace_shows_interim_responses_as_heads(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    interim = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n"
    final = response(b"body after hints")
    server = await raw_server(answer(interim + final))
    run = await cli("--trace", "t", server.url(), cwd=tmp_path)
    assert run.code == 0
    trace = parse_hex_trace((tmp_path / "t").read_bytes())
    assert trace.joined(b"<= Recv", b"header") == interim + head_of(final)
    assert trace.joined(b"<= Recv", b"data") == b"body after hints"


async def test_trace_to_stdout_and_stderr(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"BODY")))
    run = await cli("--trace", "-", server.url())
    assert run.code == 0
    # the body comes between the received data block and the end
    dump, body, rest = run.out.rpartition(b"BODY")
    assert (body, rest) == (b"BODY", b"")
    trace = parse_hex_trace(dump)
    assert trace.joined(b"=> Send") == server.requests[0]
    assert trace.joined(b"<= Recv") == response(b"BODY")

    server = await raw_server(answer(response(b"BODY")))
    run = await cli("--trace", "%", server.url())  # curl's name for stderr
    assert (run.code, run.out) == (0, b"BODY")
    assert parse_hex_trace(run.err).joined(b"=> Send") == server.requests[0]


async def test_trace_and_verbose_together(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    server = await raw_server(answer(response(b"both")))
    run = await cli("-v", "--trace", "t", server.url(), cwd=tmp_path)
    assert (run.code, run.out) == (0, b"both")
    sent = b"".join(line[2:] for line in run.err.splitlines(keepends=True) if line[:2] == b"> ")
    assert sent == server.requests[0]
    assert parse_hex_trace((tmp_path / "t").read_bytes()).joined(b"=> Send") == sent


async def test_trace_time(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    server = await raw_server(answer(response(b"timed")))
    before = datetime.datetime.now()
    run = await cli("--trace", "t", "--trace-time", "-v", server.url(), cwd=tmp_path)
    after = datetime.datetime.now()
    assert run.code == 0
    trace = parse_hex_trace((tmp_path / "t").read_bytes())
    stamps = [b.stamp for b in trace.blocks]
    assert all(stamps), stamps
    assert stamps == sorted(stamps)  # type: ignore[type-var]
    for stamp in stamps:
        assert stamp is not None
        clock = datetime.datetime.strptime(stamp.decode(), "%H:%M:%S.%f").time()
        if before.date() == after.date():  # not across midnight
            assert before.time() <= clock <= after.time()
    # -v lines get a time stamp too
    for line in run.err.splitlines():
        assert re.match(STAMP + rb"[<>*] ", line), line
    # only the labels and notes have one: the rows of bytes are as without it
    rows = [line for line in (tmp_path / "t").read_bytes().splitlines() if HEX_ROW.fullmatch(line)]
    assert rows


async def test_trace_file_that_cannot_be_opened(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(answer(response(b"x")))
    run = await cli("--trace", str(tmp_path / "missing" / "t"), server.url())
    assert_error(run, 23)
    assert server.requests == []

    server = await raw_server(answer(response(b"x")))
    code, err = await shell('exec "$0" -m rawhttp -o /dev/null --trace - "$@" >&-', server.url())
    assert code == 23
    assert re.fullmatch(rb"rawhttp: \(23\) [^\n]+\n", err), err


@pytest.mark.skipif(not pathlib.Path("/dev/full").exists(), reason="no /dev/full")
async def test_trace_write_error(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"x")))
    run = await cli("--trace", "/dev/full", server.url())
    assert_error(run, 23)
    assert run.out == b"x"

    server = await raw_server(answer(response(b"", "X-A: b")))
    run = await cli("-I", "--trace-ascii", "/dev/full", server.url())
    assert_error(run, 23)


# -- --trace-ascii end to end ----------------------------------------------------------------


def ascii_rows(message: bytes) -> bytes:
    """The --trace-ascii rows of a message whose lines are all CRLF-ended and short."""
    rows, at = [], 0
    for line in message.split(b"\r\n")[:-1]:
        rows.append(b"%04x: %s\n" % (at, line.translate(SHOWN)))
        at += len(line) + 2
    return b"".join(rows)


async def test_trace_ascii(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    body = b"A" * 70 + b"\r\n" + b"\x00\x01\xff\x7f\x80abc"
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 80\r\n\r\n" + body
    server = await raw_server(answer(reply))
    run = await cli("--trace-ascii", "t", "-H", b"X-Bin: caf\xe9", server.url("/x"), cwd=tmp_path)
    assert (run.code, run.out) == (0, body)
    request = server.requests[0]
    expected = (
        b"== Info:   Trying 127.0.0.1:%d...\n"
        b"== Info: Connected to 127.0.0.1 (127.0.0.1) port %d (#0)\n"
        b"=> Send header, %d bytes (0x%x)\n"
        % (server.port, server.port, len(request), len(request))
        + ascii_rows(request)
        + b"<= Recv header, 17 bytes (0x11)\n0000: HTTP/1.1 200 OK\n"
        b"<= Recv header, 20 bytes (0x14)\n0000: Content-Length: 80\n"
        b"<= Recv header, 2 bytes (0x2)\n0000: \n"
        b"<= Recv data, 80 bytes (0x50)\n"
        b"0000: " + b"A" * 64 + b"\n"  # 64 a line
        b"0040: AAAAAA\n"  # a CRLF ends a line
        b"0048: ...\x7f.abc\n"  # bytes outside 0x20-0x7f are dots
    )
    assert (tmp_path / "t").read_bytes() == expected


async def test_trace_ascii_is_the_last_of_the_two(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(answer(response(b"x")))
    run = await cli("--trace", "t", "--trace-ascii", "t", server.url(), cwd=tmp_path)
    assert run.code == 0
    assert b"=> Send header" in (tmp_path / "t").read_bytes()
    assert not HEX_ROW.search((tmp_path / "t").read_bytes())


# -- the layout on plain data ----------------------------------------------------------------


def test_hex_lines() -> None:
    data = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    assert b"".join(hex_lines(data)) == (
        b"0000: 47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a GET / HTTP/1.1..\n"
        b"0010: 48 6f 73 74 3a 20 61 0d 0a 0d 0a                Host: a....\n"
    )
    assert hex_lines(b"") == []
    assert hex_lines(bytes(range(256)))[-1] == (
        b"00f0: f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 fa fb fc fd fe ff ................\n"
    )
    assert hex_lines(bytes(range(0x70, 0x80)))[0].endswith(b" pqrstuvwxyz{|}~\x7f\n")


def test_ascii_lines() -> None:
    assert ascii_lines(b"a\r\nb\r\n\r\n") == [b"0000: a\n", b"0003: b\n", b"0006: \n"]
    # 64 bytes a line
    assert ascii_lines(b"x" * 130) == [
        b"0000: " + b"x" * 64 + b"\n",
        b"0040: " + b"x" * 64 + b"\n",
        b"0080: xx\n",
    ]
    # a CRLF just after 64 bytes ends that line (no empty line for it)
    assert ascii_lines(b"y" * 64 + b"\r\nz") == [b"0000: " + b"y" * 64 + b"\n", b"0042: z\n"]
    assert ascii_lines(b"y" * 63 + b"\r\nz") == [b"0000: " + b"y" * 63 + b"\n", b"0041: z\n"]
    assert ascii_lines(b"y" * 65 + b"\r\n") == [b"0000: " + b"y" * 64 + b"\n", b"0040: y\n"]
    # a CR alone, or one at the very end, is a byte like the others
    assert ascii_lines(b"a\rb\r") == [b"0000: a.b.\n"]
    assert ascii_lines(b"") == []


def test_trace_dump_labels() -> None:
    stream = io.BytesIO()
    dump = TraceDump(stream, ascii_only=True)
    dump.info(b"note", 0.0)
    dump.data(b"=> Send data", b"x" * 300, 0.0)
    assert stream.getvalue().splitlines()[:2] == [
        b"== Info: note",
        b"=> Send data, 300 bytes (0x12c)",
    ]


class Event:
    def __init__(self, kind: str, data: bytes = b"", connection: int = 1) -> None:
        self.kind, self.data, self.time, self.connection = kind, data, 0.0, connection


def split(*events: Event) -> tuple[list[tuple[bytes, bytes]], WireLog]:
    """(label, bytes) for each piece the wire log hands to the dump."""
    pieces: list[tuple[bytes, bytes]] = []

    class Recorder(TraceDump):
        def data(self, label: bytes, data: bytes, when: float) -> None:
            pieces.append((label, data))

    log = WireLog(False, io.BytesIO(), dump=Recorder(io.BytesIO(), ascii_only=False))
    for event in events:
        log(event)
    return pieces, log


def test_split_of_a_head_and_body_sent_together() -> None:
    pieces, log = split(
        Event("connect"),
        Event("send", b"POST / HTTP/1.1\r\nA: b\r\n\r\nbody\r\n\r\nmore"),
        Event("send", b" and more"),
        Event("receive", b"HTTP/1.1 200 OK\r\n"),
        Event("receive", b"\r\n"),
        Event("receive", b"data"),
    )
    assert pieces == [
        (b"=> Send header", b"POST / HTTP/1.1\r\nA: b\r\n\r\n"),
        (b"=> Send data", b"body\r\n\r\nmore"),
        (b"=> Send data", b" and more"),
        (b"<= Recv header", b"HTTP/1.1 200 OK\r\n"),
        (b"<= Recv header", b"\r\n"),
        (b"<= Recv data", b"data"),
    ]
    assert log.heads == [b"HTTP/1.1 200 OK\r\n\r\n"]
    assert (log.sent, log.upload, log.connects) == (25 + 12 + 9, 12 + 9, 1)


def test_split_when_the_end_of_a_head_is_cut_in_two() -> None:
    pieces, log = split(
        Event("connect"),
        Event("send", b"GET / HTTP/1.1\r\nA: b\r\n\r"),
        Event("send", b"\n"),
        Event("receive", b"HTTP/1.1 204 No Content\r\n\r"),
        Event("receive", b"\nHTTP/1.1 ..."),  # not a real read, but split all the same
        # the next request on the same connection: a head again
        Event("send", b"GET /2 HTTP/1.1\r\n\r\n"),
        Event("receive", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"),
    )
    assert pieces == [
        (b"=> Send header", b"GET / HTTP/1.1\r\nA: b\r\n\r"),
        (b"=> Send header", b"\n"),
        (b"<= Recv header", b"HTTP/1.1 204 No Content\r\n\r"),
        (b"<= Recv header", b"\n"),
        (b"<= Recv data", b"HTTP/1.1 ..."),
        (b"=> Send header", b"GET /2 HTTP/1.1\r\n\r\n"),
        (b"<= Recv header", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"),
        (b"<= Recv data", b"x"),
    ]
    assert log.heads == [
        b"HTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n",
    ]
    assert log.upload == 0


def test_split_with_100_continue() -> None:
    """With Expect: 100-continue the body is sent after the interim response."""
    pieces, log = split(
        Event("connect"),
        Event("send", b"PUT / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"),
        Event("receive", b"HTTP/1.1 100 Continue\r\n"),
        Event("receive", b"\r\n"),
        Event("send", b"the body"),
        Event("receive", b"HTTP/1.1 201 Created\r\n"),
        Event("receive", b"\r\n"),
    )
    assert [label for label, _ in pieces] == [
        b"=> Send header",
        b"<= Recv header",
        b"<= Recv header",
        b"=> Send data",
        b"<= Recv header",
        b"<= Recv header",
    ]
    assert log.heads == [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 201 Created\r\n\r\n"]
    assert log.upload == len(b"the body")


def test_a_new_connection_starts_with_a_request_head() -> None:
    """A request retried on a fresh connection after the first one failed mid-head."""
    pieces, log = split(
        Event("connect"),
        Event("send", b"GET / HTTP/1.1\r\n"),
        Event("close"),
        Event("connect", connection=2),
        Event("send", b"GET / HTTP/1.1\r\n\r\n", connection=2),
    )
    assert pieces == [
        (b"=> Send header", b"GET / HTTP/1.1\r\n"),
        (b"=> Send header", b"GET / HTTP/1.1\r\n\r\n"),
    ]
    assert log.connects == 2

    # a body sent again on a new connection is the last request's body once
    request = b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
    _, log = split(
        Event("connect"),
        Event("send", request),
        Event("close"),
        Event("connect", connection=2),
        Event("send", request, connection=2),
    )
    assert (log.upload, log.sent) == (4, 2 * len(request))


async def test_trace_of_a_request_retried_on_a_new_connection(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    """The kept-alive connection is closed by the server after the second request
    arrived: rawhttp sends it again on a new connection, and the trace shows both."""
    first = response(b"moved", "Location: /next", status="302 Found")
    final = response(b"final")

    async def handler(conn: RawConnection) -> None:
        if conn.index == 1:
            await read_message(conn)
            await conn.send(first)
            await read_message(conn)
            conn.close()  # without an answer
        else:
            await read_message(conn)
            await conn.send(final)

    server = await raw_server(handler)
    run = await cli("-L", "--trace", "t", server.url("/start"), cwd=tmp_path)
    assert (run.code, run.out) == (0, b"final")
    trace = parse_hex_trace((tmp_path / "t").read_bytes())
    assert trace.pieces(b"=> Send", b"header") == server.requests
    assert len(server.requests) == 3
    assert trace.joined(b"<= Recv") == first + final


async def test_trace_of_routes(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    """Three requests on one kept-alive connection: one "Connected" note."""
    table = {
        "/1": response(b"", "Location: /2", status="307 Temporary Redirect"),
        "/2": response(b"", "Location: /3", status="308 Permanent Redirect"),
        "/3": CHUNKED,
    }
    server = await raw_server(routes(table))
    run = await cli("-L", "-d", "x=1", "--trace-ascii", "t", server.url("/1"), cwd=tmp_path)
    assert run.code == 0
    text = (tmp_path / "t").read_bytes()
    assert text.count(b"== Info: Connected") == 1
    assert text.count(b"=> Send header") == 3
    assert text.count(b"=> Send data, 3 bytes (0x3)\n0000: x=1\n") == 3


def test_verbose_lines_cut_across_reads() -> None:
    err = io.BytesIO()
    log = WireLog(True, err)
    for event in (
        Event("connect", b"::1 8080"),
        Event("send", b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\nA: b\r\n\r\nbody"),
        Event("receive", b"HTTP/1.1 200 OK\r"),
        Event("receive", b"\nX: a\rb\r\n"),
        Event("receive", b"\r\nbody"),
    ):
        log(event)
    assert err.getvalue() == (
        b"*   Trying [::1]:8080...\n"
        b"* Connected to ::1 (::1) port 8080 (#0)\n"
        b"> GET / HTTP/1.1\r\n> Host: [::1]:8080\r\n> A: b\r\n> \r\n"
        b"< HTTP/1.1 200 OK\r\n< X: a\rb\r\n< \r\n"
    )
