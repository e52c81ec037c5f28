"""``files=`` uploads as multipart/form-data (RFC 7578), parsed back by a real server
(pytest-httpserver's Werkzeug): every kind of content, field name and filename, the
framing (Content-Length or chunked), the boundary, redirects that send the body
again, the errors, the blocking API, and a 512 MiB file streamed in constant memory."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import pathlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from conftest import RawConnection, RawServer, assert_clean, head_fields, read_message
from pytest_httpserver import HTTPServer
from servers import run_script
from werkzeug import Request, Response
from werkzeug.formparser import parse_form_data

import rawhttp
from rawhttp import _multipart

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(10.0)
ALL_BYTES = bytes(range(256))
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
# Names and filenames that must come back from Werkzeug exactly as sent.
TRICKY = [
    'q"uote',
    'two""quotes',
    "semi;colon; name=x",
    "back\\slash",
    "trailing\\",
    "caf\u00e9",
    "\u2603 snow",
    "emoji \U0001f600",
    "tab\tand\x00nul\x1bescape",
    "percent %41 %zz",
    "",
]


def describe(request: Request) -> Response:
    """What Werkzeug parsed: the form fields, the files (name, filename, Content-Type,
    content in hex, other part headers) and the request's framing headers."""
    files = []
    for name, storage in request.files.items(multi=True):
        extra = [[k, v] for k, v in storage.headers.items() if k.lower() not in DEFAULT_HEADERS]
        files.append([name, storage.filename, storage.content_type, storage.read().hex(), extra])
    view = {
        "form": [[name, value] for name, value in request.form.items(multi=True)],
        "files": files,
        "type": request.headers.get("Content-Type"),
        "length": request.headers.get("Content-Length"),
        "chunked": request.headers.get("Transfer-Encoding"),
    }
    return Response(json.dumps(view), content_type="application/json")


DEFAULT_HEADERS = ("content-disposition", "content-type")


@pytest.fixture
def upload_url(httpserver: HTTPServer) -> str:
    httpserver.expect_request("/upload", method="POST").respond_with_handler(describe)
    return httpserver.url_for("/upload")


async def upload(url: str, **options: Any) -> dict[str, Any]:
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(url, **options)
        assert r.status == 200, r.content
        assert_clean(s)
    view: dict[str, Any] = r.json()
    return view


def part(
    name: str, filename: str, kind: str | None, content: bytes, *extra: list[str]
) -> list[Any]:
    """A file as ``describe`` shows it."""
    return [name, filename, kind, content.hex(), list(extra)]


OCTET = "application/octet-stream"
CASES: list[tuple[str, dict[str, Any], list[list[str]], list[list[Any]]]] = [
    (
        "bytes-with-crlf-nul-and-dashes",
        {"files": {"f": ("a.bin", b"\r\n--x\r\n\x00\r\n\r\n--")}},
        [],
        [part("f", "a.bin", OCTET, b"\r\n--x\r\n\x00\r\n\r\n--")],
    ),
    (
        "all-256-byte-values",
        {"files": {"f": ("all.bin", ALL_BYTES)}},
        [],
        [part("f", "all.bin", OCTET, ALL_BYTES)],
    ),
    (
        "file-object-without-name",
        {"files": {"f": io.BytesIO(ALL_BYTES * 3)}},
        [],
        [part("f", "f", OCTET, ALL_BYTES * 3)],  # the field name stands in for one
    ),
    (
        "empty-bytes-and-empty-file",
        {"files": [("e", ("empty.txt", b"")), ("e", io.BytesIO())]},
        [],
        [part("e", "empty.txt", "text/plain", b""), part("e", "e", OCTET, b"")],
    ),
    (
        "tricky-names-and-filenames",
        {
            "files": [(name, (name, name.encode())) for name in TRICKY],
            "data": [(name, name) for name in TRICKY],
        },
        [[name, name] for name in TRICKY],
        [part(name, name, OCTET, name.encode()) for name in TRICKY],
    ),
    (
        "repeated-names-from-pairs-and-lists",
        {
            "files": [("f", ("1.txt", b"one")), ("f", ("2.txt", b"two")), ("g", b"3")],
            "data": {"k": ["a", "b"], "l": ("c",)},
        },
        [["k", "a"], ["k", "b"], ["l", "c"]],
        [
            part("f", "1.txt", "text/plain", b"one"),
            part("f", "2.txt", "text/plain", b"two"),
            part("g", "g", OCTET, b"3"),
        ],
    ),
    (
        "content-type-given",
        {"files": {"f": ("x.txt", b"{}", "application/json; charset=utf-8")}},
        [],
        [part("f", "x.txt", "application/json; charset=utf-8", b"{}")],
    ),
    (
        "headers-given",
        {
            "files": {
                "f": ("x.bin", b"x", None, {"X-Part": "yes", "X-Other": "a b"}),
                "g": ("g.txt", b"g", None, [("Content-Type", "image/png")]),
                "h": ("h.txt", b"h", "text/csv", rawhttp.Headers({"X-H": "1"})),
            }
        },
        [],
        [
            part("f", "x.bin", OCTET, b"x", ["X-Part", "yes"], ["X-Other", "a b"]),
            part("g", "g.txt", "image/png", b"g"),
            part("h", "h.txt", "text/csv", b"h", ["X-H", "1"]),
        ],
    ),
    (
        "data-and-files",
        {
            "data": {"s": "text", "b": b"bytes", "i": 42, "x": 1.5, "u": "\u00e9\u2603"},
            "files": {"file": ("r.csv", "a,b\r\n1,\u00e9\n")},
        },
        [["s", "text"], ["b", "bytes"], ["i", "42"], ["x", "1.5"], ["u", "\u00e9\u2603"]],
        [part("file", "r.csv", "text/csv", "a,b\r\n1,\u00e9\n".encode())],
    ),
    (
        "files-only",
        {"files": {"only": b"x"}},
        [],
        [part("only", "only", OCTET, b"x")],
    ),
    (
        "guessed-content-types",
        {"files": {"p": ("a.PNG", b"p"), "h": ("data:text/html,x", b"h"), "n": ("noext", b"n")}},
        [],
        [
            part("p", "a.PNG", "image/png", b"p"),
            part("h", "data:text/html,x", OCTET, b"h"),
            part("n", "noext", OCTET, b"n"),
        ],
    ),
    (
        "no-filename-is-a-field",  # Werkzeug puts a part without a filename in the form
        {"files": {"j": (None, b'{"a": 1}', "application/json"), "t": (None, "\u00e9")}},
        [["j", '{"a": 1}'], ["t", "\u00e9"]],
        [],
    ),
    (
        "no-parts-at-all",
        {"files": {}},
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    ("options", "form", "files"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_round_trip_through_werkzeug(
    upload_url: str, options: dict[str, Any], form: list[list[str]], files: list[list[Any]]
) -> None:
    view = await upload(upload_url, **options)
    assert view["form"] == form
    assert view["files"] == files
    assert view["type"].startswith("multipart/form-data; boundary=rawhttp-")
    assert view["chunked"] is None  # every part's size is known: Content-Length


async def test_cr_and_lf_in_names_arrive_as_browsers_send_them(upload_url: str) -> None:
    # WHATWG escapes CR, LF and '"' as %0D, %0A and %22 and nothing else, so "%22"
    # typed by a user is ambiguous; Werkzeug decodes %22 only (as of 3.1), and hands
    # the other two over as they are, exactly as it does for Chrome and Firefox.
    name, filename = "line\r\nbreak", 'a\nb"c\r.txt'
    view = await upload(
        upload_url, files={name: (filename, b"x")}, data={"lf\n": "v", "literal %22": "w"}
    )
    assert view["form"] == [["lf%0A", "v"], ['literal "', "w"]]
    assert view["files"] == [part("line%0D%0Abreak", 'a%0Ab"c%0D.txt', "text/plain", b"x")]


async def test_the_exact_bytes_on_the_wire(
    raw_server: MakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages: list[tuple[bytes, bytes]] = []

    async def record(conn: RawConnection) -> None:
        messages.append(await read_message(conn))
        await conn.send(OK)

    server = await raw_server(record)
    monkeypatch.setattr(_multipart, "_random_boundary", lambda: b"rawhttp-B")
    files = {"f": ('a"b\r\n\\.txt', b"data"), "g": (None, b"{}", "application/json")}
    async with rawhttp.Session(timeout=QUICK) as s:
        await s.post(server.url(), files=files, data={"n\u00e9": ["v", 7]})
    head, body = messages[0]
    assert body == (
        b'--rawhttp-B\r\nContent-Disposition: form-data; name="n\xc3\xa9"\r\n\r\nv\r\n'
        b'--rawhttp-B\r\nContent-Disposition: form-data; name="n\xc3\xa9"\r\n\r\n7\r\n'
        b"--rawhttp-B\r\n"
        b'Content-Disposition: form-data; name="f"; filename="a%22b%0D%0A\\\\.txt"\r\n'
        b"Content-Type: text/plain\r\n\r\ndata\r\n"
        b'--rawhttp-B\r\nContent-Disposition: form-data; name="g"\r\n'
        b"Content-Type: application/json\r\n\r\n{}\r\n"
        b"--rawhttp-B--\r\n"
    )
    fields = dict(head_fields(head))
    assert fields["content-type"] == "multipart/form-data; boundary=rawhttp-B"
    assert fields["content-length"] == str(len(body))
    assert "transfer-encoding" not in fields


# -- framing: Content-Length when every size is known, chunked otherwise ------------


async def test_content_length_is_exact_with_real_files(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    messages: list[tuple[bytes, bytes]] = []

    async def record(conn: RawConnection) -> None:
        messages.append(await read_message(conn))
        await conn.send(OK)

    server = await raw_server(record)
    (tmp_path / "one.txt").write_bytes(b"first file\n" * 1000)
    (tmp_path / "two.bin").write_bytes(ALL_BYTES)
    with open(tmp_path / "one.txt", "rb") as one, open(tmp_path / "two.bin", "rb") as two:
        two.seek(200)  # sent from where the file is, like content=
        async with rawhttp.Session(timeout=QUICK) as s:
            await s.post(server.url(), files=[("a", one), ("b", two)], data={"k": "v"})
    head, body = messages[0]
    fields = dict(head_fields(head))
    assert fields["content-length"] == str(len(body))
    assert "transfer-encoding" not in fields
    form, files = parse(fields["content-type"], body)
    assert form == [("k", "v")]
    assert files == [
        ("a", "one.txt", "text/plain", b"first file\n" * 1000),
        ("b", "two.bin", OCTET, ALL_BYTES[200:]),
    ]


def pipe_file(content: bytes) -> io.BufferedReader:
    """A binary file that cannot be seeked (a pipe) holding ``content``."""
    read_fd, write_fd = os.pipe()
    os.write(write_fd, content)
    os.close(write_fd)
    return open(read_fd, "rb")


class Unsized(io.RawIOBase):
    """A readable binary stream with no size and no seek (like a socket's file)."""

    def __init__(self, content: bytes) -> None:
        self._left = content

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), len(self._left), 1000)  # short reads, as sockets give
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


async def test_a_part_of_unknown_size_makes_the_body_chunked(upload_url: str) -> None:
    big = ALL_BYTES * 1000
    with pipe_file(b"from a pipe") as pipe:
        view = await upload(
            upload_url,
            files={"p": pipe, "u": ("u.bin", Unsized(big)), "k": ("k.txt", b"known")},
            data={"d": "v"},
        )
    assert view["chunked"] == "chunked"
    assert view["length"] is None
    assert view["form"] == [["d", "v"]]
    assert view["files"] == [
        part("p", "p", OCTET, b"from a pipe"),  # a pipe's name is its descriptor: no filename
        part("u", "u.bin", OCTET, big),
        part("k", "k.txt", "text/plain", b"known"),
    ]


async def test_the_same_file_twice_is_read_twice(upload_url: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "twice.txt"
    path.write_bytes(b"0123456789")
    with open(path, "rb") as f:
        f.seek(4)
        view = await upload(upload_url, files=[("a", f), ("b", f)])
    assert view["files"] == [
        part("a", "twice.txt", "text/plain", b"456789"),
        part("b", "twice.txt", "text/plain", b"456789"),
    ]


def parse(content_type: str, body: bytes) -> tuple[list[tuple[str, str]], list[tuple[Any, ...]]]:
    """Werkzeug's parse of a recorded multipart body: the form and the files."""
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    _, form, files = parse_form_data(environ)
    parsed = []
    for name, storage in files.items(multi=True):
        parsed.append((name, storage.filename, storage.content_type, storage.read()))
        storage.close()
    return list(form.items(multi=True)), parsed


# -- the boundary --------------------------------------------------------------------


async def test_a_boundary_found_in_the_content_is_replaced(
    upload_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tries = iter([b"rawhttp-taken", b"rawhttp-also-taken", b"rawhttp-free"])
    monkeypatch.setattr(_multipart, "_random_boundary", lambda: next(tries))
    content = b"a line\r\n--rawhttp-taken\r\nthen"
    view = await upload(
        upload_url, files={"f": ("f.bin", content)}, data={"x--rawhttp-also-taken": "v"}
    )
    assert view["type"] == "multipart/form-data; boundary=rawhttp-free"
    assert view["files"] == [part("f", "f.bin", OCTET, content)]
    assert view["form"] == [["x--rawhttp-also-taken", "v"]]


async def test_a_random_source_that_keeps_colliding_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_multipart, "_random_boundary", lambda: b"rawhttp-same")
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.InvalidRequest, match="boundaries were all in the parts"):
            await s.post("http://127.0.0.1:9/", files={"f": b"--rawhttp-same"})


def test_boundaries_are_random_and_valid() -> None:
    seen = {_multipart._random_boundary() for _ in range(100)}
    assert len(seen) == 100
    for boundary in seen:
        assert len(boundary) == 40
        assert boundary.startswith(b"rawhttp-")
        assert _multipart._BOUNDARY.fullmatch(boundary.decode())


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/form-data; boundary=own-boundary", b"own-boundary"),
        ('Multipart/Form-Data; charset=utf-8; boundary="with space:()"', b"with space:()"),
        (b"multipart/form-data;boundary=1", b"1"),
        ("multipart/form-data; boundary=form", b"form"),  # in the heads, but not after --
    ],
)
async def test_a_callers_content_type_gives_its_boundary(
    content_type: str | bytes, boundary: bytes
) -> None:
    # What build_request hands over as the caller's own Content-Type header.
    body = _multipart.encode_multipart({"f": ("f.txt", b"data")}, {"k": "v"}, content_type)
    assert body.data is not None
    assert body.data.startswith(b"--" + boundary + b"\r\n")
    assert body.data.endswith(b"\r\n--" + boundary + b"--\r\n")
    kind = f'multipart/form-data; boundary="{boundary.decode()}"'
    assert parse(kind, body.data) == ([("k", "v")], [("f", "f.txt", "text/plain", b"data")])


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("application/json", "must be multipart/form-data with a boundary"),
        ("multipart/form-data", "must be multipart/form-data with a boundary"),
        ("multipart/mixed; boundary=x", "must be multipart/form-data with a boundary"),
        ("multipart/form-data; boundary=", "invalid multipart boundary"),
        ("multipart/form-data; boundary=" + "x" * 71, "invalid multipart boundary"),
        ('multipart/form-data; boundary="ends in space "', "invalid multipart boundary"),
        ("multipart/form-data; boundary=in-data", "appears in a part"),
    ],
)
def test_a_callers_content_type_that_cannot_work_is_refused(
    content_type: str, message: str
) -> None:
    with pytest.raises(rawhttp.InvalidRequest, match=message):
        _multipart.encode_multipart({"f": b"--in-data"}, None, content_type)


# -- sending the body again: redirects -------------------------------------------------


async def test_a_307_sends_the_same_body_again(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    messages: list[tuple[bytes, bytes]] = []

    async def redirect_once(conn: RawConnection) -> None:
        messages.append(await read_message(conn))
        await conn.send(b"HTTP/1.1 307 Again\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")
        messages.append(await read_message(conn))
        await conn.send(OK)

    server = await raw_server(redirect_once)
    path = tmp_path / "doc.txt"
    path.write_bytes(b"document " * 10_000)
    with open(path, "rb") as f:
        async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
            r = await s.post(server.url("/first"), files={"doc": f, "m": io.BytesIO(b"mem")})
            assert r.status == 200
            assert r.content == b"ok"
            assert_clean(s)
    (head1, body1), (head2, body2) = messages
    assert head1.startswith(b"POST /first ")
    assert head2.startswith(b"POST /again ")
    assert len(body1) > 90_000
    assert body1 == body2
    fields = dict(head_fields(head2))
    assert fields["content-length"] == str(len(body2))
    assert parse(fields["content-type"], body2)[1] == [
        ("doc", "doc.txt", "text/plain", b"document " * 10_000),
        ("m", "m", OCTET, b"mem"),
    ]


async def test_a_307_with_a_file_that_cannot_be_rewound_is_refused(
    raw_server: MakeServer,
) -> None:
    async def redirect(conn: RawConnection) -> None:
        await read_message(conn)
        await conn.send(b"HTTP/1.1 307 Again\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")
        await read_message(conn)  # never comes

    server = await raw_server(redirect)
    with pipe_file(b"once only") as pipe:
        async with rawhttp.Session(timeout=QUICK, follow_redirects=True) as s:
            with pytest.raises(rawhttp.InvalidRequest, match="cannot be sent again") as caught:
                await s.post(server.url(), files={"f": pipe})
            assert "307 redirect" in str(caught.value)
            assert_clean(s)
    assert len(server.requests) == 1


# -- errors -----------------------------------------------------------------------------


class TextFromRead:
    """Looks like a binary file (no mode, not a TextIOBase) but reads str."""

    def read(self, size: int = -1) -> str:
        return "text"


class Shrinking(io.BytesIO):
    """Gives 3 bytes, then nothing, though it measured 10 when the request was built."""

    def read(self, size: int | None = -1) -> bytes:
        block = super().read(3) if self.tell() == 0 else b""
        return block


BAD_OPTIONS: list[tuple[dict[str, Any], str]] = [
    ({"files": 42}, "files= must be a dict or a list of"),
    ({"files": b"raw"}, "files= must be a dict or a list of"),
    ({"files": io.BytesIO(b"x")}, "files= must be a dict or a list of"),
    (
        {"files": [("a", b"1", b"2")]},
        r"files= items must be \(name, value\) pairs, not a tuple of 3",
    ),
    ({"files": {1: b"x"}}, "files= field names must be str, not int"),
    ({"files": {"f": 42}}, "'f': content must be bytes, str or a binary file, not int"),
    ({"files": {"f": None}}, "'f': content must be bytes, str or a binary file, not NoneType"),
    ({"files": {"f": ["a", b"x"]}}, "a list is not a file"),
    ({"files": {"f": ("a",)}}, r"a tuple must be \(filename, content"),
    ({"files": {"f": ("a", b"x", None, None, 5)}}, "not 5 items"),
    ({"files": {"f": (b"a.txt", b"x")}}, "filename must be str or None, not bytes"),
    ({"files": {"f": pathlib.Path("x.txt")}}, r"give the file, open\(path, 'rb'\), not its path"),
    ({"files": {"f": io.StringIO("text")}}, "must be opened in binary mode"),
    ({"files": {"f": ("a", b"x", "text/plain\r\nX-Injected: 1")}}, "forbidden character"),
    ({"files": {"f": ("a", b"x", 3.5)}}, "must be str or bytes"),
    ({"files": {"f": ("a", b"x", None, {"X-Part": "a\r\nb"})}}, "forbidden character"),
    ({"files": {"f": ("a", b"x", None, {"X-Part": "a\nb"})}}, "forbidden character"),
    ({"files": {"f": ("a", b"x", None, {"Bad Name": "v"})}}, "invalid header name"),
    (
        {"files": {"f": ("a", b"x", None, {"Content-Disposition": "x"})}},
        "Content-Disposition is made",
    ),
    ({"files": {"f": ("a", b"x", "a/b", {"content-type": "c/d"})}}, "Content-Type given both"),
    ({"files": {"f": ("a", b"x", None, ["no pair"])}}, "headers must be"),
    ({"files": {"\ud800": b"x"}}, "field name is not valid Unicode"),
    ({"files": {"f": ("\udcff.txt", b"x")}}, "filename of 'f' is not valid Unicode"),
    ({"files": {"f": ("a", "\ud800")}}, "content is not valid Unicode"),
    ({"files": {}, "data": "a=b"}, "data= must be a dict or a list of"),
    (
        {"files": {}, "data": {"k": None}},
        "'k': a value with files= must be str, bytes, int or float",
    ),
    ({"files": {}, "data": {"k": True}}, "not bool"),
    ({"files": {}, "data": {"k": {"nested": 1}}}, "not dict"),
    ({"files": {}, "data": {"k": "\ud800"}}, "data= 'k' value is not valid Unicode"),
    ({"files": {}, "data": [("k",)]}, "pairs, not a tuple of 1 items"),
    ({"files": {}, "data": {"k": 10**5000}}, "'k': Exceeds the limit"),
    ({"files": {"f": b"x"}, "content": b"x"}, "files= goes with data= only"),
    ({"files": {"f": b"x"}, "json": {}}, "files= goes with data= only"),
]


@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS)
async def test_bad_input_is_refused_before_connecting(
    raw_server: MakeServer, options: dict[str, Any], message: str
) -> None:
    server = await raw_server(lambda conn: conn.send(OK))
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.InvalidRequest, match=message):
            await s.post(server.url(), **options)
    assert server.connections == 0


async def test_text_mode_closed_and_write_only_files_are_refused(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(lambda conn: conn.send(OK))
    path = tmp_path / "t.txt"
    path.write_text("text")
    async with rawhttp.Session(timeout=QUICK) as s:
        with open(path) as text, pytest.raises(rawhttp.InvalidRequest, match="binary mode"):
            await s.post(server.url(), files={"f": text})
        with open(path, "rb") as closed:
            pass
        with pytest.raises(rawhttp.InvalidRequest, match="the file is closed"):
            await s.post(server.url(), files={"f": closed})
        with (
            open(tmp_path / "w.bin", "wb") as write_only,
            pytest.raises(rawhttp.InvalidRequest, match="not open for reading"),
        ):
            await s.post(server.url(), files={"f": write_only})
    assert server.connections == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (TextFromRead(), "read\\(\\) returned str, not bytes"),
        (Shrinking(b"0123456789"), "the file gave 3 bytes, not the 10 it had"),
    ],
)
async def test_a_file_that_misbehaves_while_sent_is_an_error(
    raw_server: MakeServer, content: object, message: str
) -> None:
    async def read_then_answer(conn: RawConnection) -> None:
        await read_message(conn)
        await conn.send(OK)

    server = await raw_server(read_then_answer)
    async with rawhttp.Session(timeout=QUICK) as s:
        with pytest.raises(rawhttp.InvalidRequest, match=message):
            await s.post(server.url(), files={"f": ("f", content)}, data={"k": "v"})
        assert_clean(s)
        r = await s.post(server.url(), files={"f": b"fine"})  # the Session still works
        assert r.status == 200


# -- the blocking API -------------------------------------------------------------------


def test_blocking_api(upload_url: str, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\r\n" * 1000)
    with rawhttp.SyncSession(timeout=QUICK) as s, open(path, "rb") as f:
        r = s.post(upload_url, files={"report": f}, data={"who": "\u00e9"})
        assert r.status == 200
        view = r.json()
        with pytest.raises(rawhttp.InvalidRequest, match="binary mode"):
            s.put(upload_url, files={"f": io.StringIO("x")})
    assert view["form"] == [["who", "\u00e9"]]
    assert view["files"] == [part("report", "report.csv", "text/csv", b"a,b\r\n" * 1000)]
    assert view["length"] is not None


# -- large files: streamed, in constant memory ------------------------------------------


def hashing(request: Request) -> Response:
    """Hash the uploaded file as Werkzeug hands it over, in blocks."""
    digest = hashlib.sha256()
    stream = request.files["big"].stream
    for _ in range(100_000):  # bounded: 100_000 blocks of 64 KiB is more than sent here
        block = stream.read(65536)
        if not block:
            break
        digest.update(block)
    view = {"sha256": digest.hexdigest(), "length": request.headers.get("Content-Length")}
    return Response(json.dumps(view), content_type="application/json")


def pattern(size: int) -> Iterator[bytes]:
    """``size`` bytes of a pattern that does not repeat within 1 MiB, in 1 MiB blocks."""
    block = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(32768))
    for start in range(0, size, len(block)):
        yield block[: size - start]


async def test_a_large_file_through_werkzeug(
    httpserver: HTTPServer, tmp_path: pathlib.Path
) -> None:
    size = 48 * 1024 * 1024 + 123
    path = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for block in pattern(size):
            f.write(block)
            digest.update(block)
    httpserver.expect_request("/big", method="POST").respond_with_handler(hashing)
    with open(path, "rb") as f:
        view = await upload(httpserver.url_for("/big"), files={"big": f})
    assert view["sha256"] == digest.hexdigest()
    assert int(view["length"]) > size


UPLOAD_SCRIPT = """
    import asyncio, hashlib, os, sys, tempfile, time
    import rawhttp

    SIZE = 512 * 1024 * 1024

    async def main() -> None:
        seen = {}

        async def hashing(reader, writer):
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            fields = dict(line.split(b": ", 1) for line in head.split(b"\\r\\n")[1:] if line)
            if fields.get(b"Expect") == b"100-continue":
                writer.write(b"HTTP/1.1 100 Continue\\r\\n\\r\\n")
            left = length = int(fields[b"Content-Length"])
            digest = hashlib.sha256()
            while left:
                data = await reader.read(min(left, 1 << 20))
                if not data:
                    raise EOFError
                digest.update(data)
                left -= len(data)
            seen.update(sha256=digest.hexdigest(), length=length, type=fields[b"Content-Type"])
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n")
            await writer.drain()
            writer.close()
            await writer.wait_closed()

        server = await asyncio.start_server(hashing, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with tempfile.NamedTemporaryFile(dir=sys.argv[1], suffix=".bin") as f:
            f.truncate(SIZE)  # sparse: no disk space needed
            f.seek(SIZE // 3)
            f.write(b"not all zeros")
            f.flush()
            f.seek(0)
            async with rawhttp.Session(timeout=rawhttp.Timeout(60.0)) as s:
                await asyncio.sleep(0)
                with open("/proc/self/clear_refs", "w") as c:
                    c.write("5")  # reset VmHWM to the current RSS
                before = peak_rss()
                start = time.perf_counter()
                r = await s.post(f"http://127.0.0.1:{port}/", files={"big": f}, data={"k": "v"})
                elapsed = time.perf_counter() - start
                after = peak_rss()
            boundary = seen["type"].split(b"boundary=")[1]
            name = os.path.basename(f.name).encode()
            digest = hashlib.sha256()
            digest.update(b"--" + boundary + b'\\r\\nContent-Disposition: form-data; name="k"\\r\\n')
            digest.update(b"\\r\\nv\\r\\n--" + boundary + b"\\r\\n")
            digest.update(b'Content-Disposition: form-data; name="big"; filename="' + name + b'"')
            digest.update(b"\\r\\nContent-Type: application/octet-stream\\r\\n\\r\\n")
            f.seek(0)
            while block := f.read(1 << 20):
                digest.update(block)
            digest.update(b"\\r\\n--" + boundary + b"--\\r\\n")
        server.close()
        await server.wait_closed()
        same = seen["sha256"] == digest.hexdigest()
        print(r.status, seen["length"] - SIZE, same, after - before, f"{elapsed:.2f}")

    asyncio.run(main())
    """


def test_512_mib_file_upload_in_constant_memory(tmp_path: pathlib.Path) -> None:
    # Measured: about 1.6 s for the 512 MiB, peak RSS growth about 2 MiB.
    proc = run_script(tmp_path / "upload.py", UPLOAD_SCRIPT, str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    status, overhead, same, growth, elapsed = proc.stdout.split()
    assert status == "200"
    assert 0 < int(overhead) < 400  # Content-Length: the file, the field and the part heads
    assert same == "True"  # the server got the exact body, file and all
    assert int(growth) < 32 * 1024 * 1024, f"peak RSS grew by {int(growth) / 2**20:.1f} MiB"
    print(f"512 MiB multipart upload: {elapsed} s, peak RSS growth {int(growth) / 2**20:.2f} MiB")


async def test_concurrent_uploads_on_one_session(upload_url: str) -> None:
    # Several uploads at once on one Session, each parsed back in full.
    async with rawhttp.Session(timeout=QUICK) as s:
        responses = await asyncio.gather(
            *(s.post(upload_url, files={"f": (f"{i}.txt", b"%d" % i)}) for i in range(5))
        )
        assert_clean(s)
    for i, r in enumerate(responses):
        assert r.json()["files"] == [part("f", f"{i}.txt", "text/plain", b"%d" % i)]


async def test_a_callers_multipart_content_type_keeps_its_boundary(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/upload", method="POST").respond_with_handler(describe)
    kind = "multipart/form-data; boundary=caller-chosen"
    async with rawhttp.Session(timeout=QUICK) as s:
        r = await s.post(
            httpserver.url_for("/upload"),
            files={"f": ("a.txt", b"x")},
            headers={"Content-Type": kind},
        )
    assert r.json()["type"] == kind
    assert r.json()["files"] == [part("f", "a.txt", "text/plain", b"x")]


@pytest.mark.parametrize("where", ["request", "session"])
async def test_a_content_type_without_a_boundary_is_refused(where: str) -> None:
    headers = {"Content-Type": "application/json"}
    session: dict[str, Any] = {"headers": headers} if where == "session" else {}
    request: dict[str, Any] = {"headers": headers} if where == "request" else {}
    async with rawhttp.Session(timeout=QUICK, **session) as s:
        with pytest.raises(rawhttp.InvalidRequest, match="multipart/form-data with a boundary"):
            await s.post("http://127.0.0.1:9/", files={"f": b"x"}, **request)
