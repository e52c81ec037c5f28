"""The ``rawhttp`` command and curl side by side: the same everyday command lines, run
with both against one loopback server, must give the same exit code, the same stdout
and the same files, and make the server see the same requests (method, target, the
fields that matter, the body).  Where they differ on purpose, KNOWN says why.

Run as a script (``python tests/test_cli_vs_curl.py``) it prints the comparison as a
Markdown table.  The tests skip, saying why, when curl is not installed; the command's
own behaviour for each of these lines is checked by the other test_cli*.py files.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from conftest import RawConnection, RawServer, read_message

CURL = shutil.which("curl")

ECHOED = (
    "authorization", "content-length", "content-type", "cookie", "if-modified-since",
    "range", "referer", "transfer-encoding", "x-test", "accept",
)  # fmt: skip
"""Request fields the echo shows (User-Agent and the like differ by design)."""


def reply(body: bytes, *fields: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", *fields, f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def echo(head: bytes, body: bytes) -> bytes:
    """What the server saw, normalised: request line, the ECHOED fields, the body (a
    multipart boundary written as BOUNDARY)."""
    lines = head.decode("latin-1").split("\r\n")
    shown = [lines[0]]
    boundary = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in ECHOED:
            if name.strip().lower() == "accept" and value.strip() == "*/*":
                continue
            found = re.search(r"boundary=(\S+)", value)
            if found:
                boundary = found.group(1)
            shown.append(f"{name.strip().lower()}:{value}")
    # sorted: field order is no behaviour (rawhttp writes Content-Length after the
    # fields it was given, curl before Content-Type)
    text = "\n".join([shown[0], *sorted(shown[1:])]).encode("latin-1") + b"\n\n" + body
    if boundary:
        text = text.replace(boundary.encode(), b"BOUNDARY")
        text = re.sub(rb"content-length: \d+", b"content-length: (its length)", text)
    return text


GZ = gzip.compress(b"compressed hello\n", mtime=0)
ROUTES: dict[str, bytes] = {
    "/text": reply(b"hello\n", "Content-Type: text/plain"),
    "/json": reply(b'{"a": 1}\n', "Content-Type: application/json"),
    "/redirect": reply(b"moved", "Location: /text", status="302 Found"),
    "/see-other": reply(b"", "Location: /echo", status="303 See Other"),
    "/perm": reply(b"", "Location: /echo", status="308 Permanent Redirect"),
    "/missing": reply(b"not found\n", status="404 Not Found"),
    "/gzip": reply(GZ, "Content-Encoding: gzip"),
    "/cookie": reply(b"set\n", "Set-Cookie: sid=s1; Path=/", "Location: /echo", status="302 Found"),
    "/file.txt": reply(b"file body\n"),
    "/dispo": reply(b"dispo\n", 'Content-Disposition: attachment; filename="named.txt"'),
    "/head": reply(b"", "X-Only: head"),
    "/partial": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
    "/badchunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "/weird": b"HELLO\r\n\r\n",
    "/busy": reply(b"busy\n", status="503 Service Unavailable"),
    "/range": reply(b"234", "Content-Range: bytes 2-4/10", status="206 Partial Content"),
}


async def handler(conn: RawConnection) -> None:
    while True:
        head, body = await read_message(conn)
        if not head:
            return
        target = head.split(b" ")[1].decode()
        path = target.split("?")[0]
        if path.startswith("/echo") or path.startswith("/up/"):
            await conn.send(reply(echo(head, body)))
        elif path in ROUTES:
            await conn.send(ROUTES[path])
            if path in ("/partial", "/badchunk", "/weird"):
                return
        else:
            await conn.send(reply(b"no route " + path.encode() + b"\n", status="404 Not Found"))


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...]
    stdin: bytes = b""
    files: dict[str, bytes] | None = None
    code: int = 0
    """The exit code expected (curl's), checked with or without curl."""


U = "{u}"  # replaced by the server's base URL
CASES: list[Case] = [
    Case((f"{U}/text",)),
    Case(("-s", f"{U}/text")),
    Case(("-sS", f"{U}/missing")),
    Case(("-f", f"{U}/missing"), code=22),
    Case(("-sSf", f"{U}/missing"), code=22),
    Case(("--fail-with-body", "-s", f"{U}/missing"), code=22),
    Case(("-i", f"{U}/text")),
    Case(("-I", f"{U}/head")),
    Case(("-L", f"{U}/redirect")),
    Case(("-sL", "--max-redirs", "0", f"{U}/redirect"), code=47),
    Case(("-s", f"{U}/redirect")),
    Case(("-sL", "-d", "a=1", f"{U}/see-other")),
    Case(("-sL", "-d", "a=1", f"{U}/perm")),
    Case(("-s", "-X", "PUT", "-d", "x", f"{U}/echo")),
    Case(("-s", "-d", "a=1", "-d", "b=2", f"{U}/echo")),
    Case(("-s", "-d", "@data.txt", f"{U}/echo"), files={"data.txt": b"l1\r\nl2\n"}),
    Case(("-s", "--data-binary", "@data.txt", f"{U}/echo"), files={"data.txt": b"l1\r\nl2\n"}),
    Case(("-s", "--data-raw", "@x", f"{U}/echo")),
    Case(("-s", "--data-urlencode", "q=a b&c", "--data-urlencode", "=x/y", f"{U}/echo")),
    Case(("-s", "-G", "-d", "q=1", "-d", "r=2", f"{U}/echo?z=0")),
    Case(("-s", "--json", '{"k": 1}', f"{U}/echo")),
    Case(("-s", "-d", "@-", f"{U}/echo"), stdin=b"from stdin"),
    Case(
        ("-s", "-F", "name=value", "-F", "f=@up.txt;type=text/plain", f"{U}/echo"),
        files={"up.txt": b"upload\n"},
    ),
    Case(("-s", "--form-string", "s=@literal", f"{U}/echo")),
    Case(("-s", "-T", "up.txt", f"{U}/up/"), files={"up.txt": b"put body\n"}),
    Case(("-s", "-H", "X-Test: 1", "-H", "Accept:", f"{U}/echo")),
    Case(("-s", "-H", "@h.txt", f"{U}/echo"), files={"h.txt": b"X-Test: from file\n"}),
    Case(("-s", "-u", "ann:pw", f"{U}/echo")),
    Case(("-s", "-e", "http://from.example/", f"{U}/echo")),
    Case(("-s", "-r", "2-4", f"{U}/range")),
    Case(("-s", "-b", "a=1; b=2", f"{U}/echo")),
    Case(("-s", "-L", "-c", "-", f"{U}/cookie")),
    Case(("-s", "-z", "Wed, 21 Oct 2015 07:28:00 GMT", f"{U}/echo")),
    Case(("-s", "-o", "out.txt", f"{U}/text")),
    Case(("-s", "-O", f"{U}/file.txt")),
    Case(("-s", "-OJ", f"{U}/dispo")),
    Case(("-s", "--create-dirs", "-o", "a/b/c.txt", f"{U}/text")),
    Case(("-s", f"{U}/text", f"{U}/json")),
    Case(("-s", "-o", "one.txt", f"{U}/text", "-o", "two.txt", f"{U}/json")),
    Case(("-s", f"{U}/echo/[1-3]")),
    Case(("-s", f"{U}/echo/{{a,b}}", "-o", "g_#1.txt")),
    Case(("-s", f"{U}/text", "-:", "-d", "n=1", f"{U}/echo")),
    Case(("-s", "-w", "%{http_code} %{num_redirects} %{content_type}\\n", "-L", f"{U}/redirect")),
    Case(("-s", "-o", "/dev/null", "-w", "%{http_code}\\n", f"{U}/missing")),
    Case(("-s", "--compressed", f"{U}/gzip")),
    Case(("-sS", f"{U}/partial"), code=18),
    Case(("-sS", f"{U}/badchunk"), code=56),
    Case(("-sS", f"{U}/weird"), code=1),
    Case(("-sS", "--retry", "1", f"{U}/busy")),
    Case(("-sS", "ftp://127.0.0.1/x"), code=1),
    Case(("-sS", "http://127.0.0.1:1/"), code=7),
    Case(("-sS", "--foo", f"{U}/text"), code=2),
    Case(("-sS", "-o"), code=2),
    Case(("-sS", "-m", "soon", f"{U}/text"), code=2),
]

KNOWN: dict[tuple[str, ...], str] = {
    ("-sS", "ftp://127.0.0.1/x"): (
        "curl here is built with FTP and fails to connect (7); rawhttp speaks HTTP only: "
        "curl's exit 1 for a protocol it lacks"
    ),
}
"""A case's arguments -> why the two differ on purpose."""


@dataclass
class Outcome:
    code: int
    out: bytes
    files: dict[str, bytes]
    seen: list[bytes]


async def run_one(program: list[str], case: Case, server: RawServer, base: str) -> Outcome:
    with tempfile.TemporaryDirectory() as where:
        root = pathlib.Path(where)
        for name, data in (case.files or {}).items():
            (root / name).write_bytes(data)
        before = set(os.listdir(root))
        args = [a.replace(U, base) for a in case.args]
        start = len(server.requests)
        proc = await asyncio.create_subprocess_exec(
            *program, *args, cwd=root, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(proc.communicate(case.stdin), 60)
        files = {}
        for path in sorted(root.rglob("*")):
            rel = str(path.relative_to(root))
            if path.is_file() and rel not in before:
                files[rel] = path.read_bytes()
        assert proc.returncode is not None
        return Outcome(proc.returncode, out, files, server.requests[start:])


def curl_cookie_lines(out: bytes) -> bytes:
    """A -c - jar's lines without its comment header (the two programs word it alike,
    but the comparison is about the cookies)."""
    return b"\n".join(line for line in out.split(b"\n") if not line.startswith(b"#"))


def differences(mine: Outcome, theirs: Outcome) -> list[str]:
    found = []
    if mine.code != theirs.code:
        found.append(f"exit {mine.code} vs curl {theirs.code}")
    if curl_cookie_lines(mine.out) != curl_cookie_lines(theirs.out):
        found.append("stdout")
    if mine.files != theirs.files:
        found.append("files")
    if [echo_line(r) for r in mine.seen] != [echo_line(r) for r in theirs.seen]:
        found.append("requests")
    return found


def echo_line(request: bytes) -> bytes:
    head, _, body = request.partition(b"\r\n\r\n")
    return echo(head, body)


async def compare(server: RawServer) -> list[tuple[Case, Outcome, Outcome, list[str]]]:
    assert CURL is not None
    base = server.url().rstrip("/")
    rows = []
    for case in CASES:
        mine = await run_one([sys.executable, "-m", "rawhttp"], case, server, base)
        theirs = await run_one([CURL], case, server, base)
        rows.append((case, mine, theirs, differences(mine, theirs)))
    return rows


async def test_the_command_lines_exit_as_curl_does(raw_server: object) -> None:
    """Each line's exit code, known in advance (curl's): checked without curl too."""
    server: RawServer = await raw_server(handler)  # type: ignore[operator]
    base = server.url().rstrip("/")
    got = [
        (case.args, (await run_one([sys.executable, "-m", "rawhttp"], case, server, base)).code)
        for case in CASES
    ]
    assert got == [(case.args, case.code) for case in CASES]


@pytest.mark.skipif(CURL is None, reason="curl is not installed: nothing to compare with")
async def test_the_command_lines_behave_as_curls(raw_server: object) -> None:
    server: RawServer = await raw_server(handler)  # type: ignore[operator]
    rows = await compare(server)
    unexpected = [
        (" ".join(case.args), found)
        for case, _, _, found in rows
        if found and case.args not in KNOWN
    ]
    assert unexpected == []
    assert len(rows) >= 40
    for case, mine, theirs, _ in rows:
        if case.args not in KNOWN:
            assert (mine.code, theirs.code) == (case.code, case.code), case.args


def table(rows: list[tuple[Case, Outcome, Outcome, list[str]]]) -> str:
    lines = ["| # | command line | exit (rawhttp / curl) | same? |", "|---|---|---|---|"]
    for i, (case, mine, theirs, found) in enumerate(rows):
        shown = " ".join(case.args).replace("|", "\\|")
        verdict = "same" if not found else "differs: " + ", ".join(found)
        if case.args in KNOWN:
            verdict += f" ({KNOWN[case.args]})"
        lines.append(f"| {i} | `{shown}` | {mine.code} / {theirs.code} | {verdict} |")
    return "\n".join(lines)


async def _main() -> None:
    server = await RawServer(handler).start()
    try:
        print(table(await compare(server)))
    finally:
        await server.close()


if __name__ == "__main__":
    asyncio.run(_main())
