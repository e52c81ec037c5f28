"""The body options of the ``rawhttp`` command (rawhttp/cli/_body.py): -d and its
kin, --data-urlencode, --json, -F/--form-string, -G and -T turned into a method, URL,
body and headers as curl 7.88 builds them (plain values, exact bytes), conflicts and
unreadable files with curl's exit codes, and end to end: what a Session sends for a
Body compared with what curl sends for the same options (when curl is installed)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import pathlib
import shutil
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from conftest import RawConnection, RawServer, head_fields, read_chunked
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import rawhttp
from rawhttp.cli._body import Body, DataArg, FormArg, build_body
from rawhttp.cli._exit import CliError

MakeServer = Callable[..., Awaitable[RawServer]]
URL = "http://h.test/p"
CURL = shutil.which("curl")
NEEDS_CURL = "curl is not installed: the bytes are checked against the hard-coded values only"


def body(
    *,
    data: list[DataArg] | None = None,
    form: list[FormArg] | None = None,
    upload: str | None = None,
    get: bool = False,
    head: bool = False,
    url: str = URL,
    given: frozenset[str] = frozenset(),
    stdin: bytes = b"",
) -> Body:
    return build_body(
        data=data or [],
        form=form or [],
        upload=upload,
        get=get,
        head=head,
        url=url,
        given=given,
        stdin=io.BytesIO(stdin),
    )


def d(kind: str, value: str) -> DataArg:
    return DataArg(kind, value)


@pytest.fixture
def files(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A directory (the cwd) with a few files to send."""
    (tmp_path / "crlf.txt").write_bytes(b"a\r\nb\nc\r\n")
    (tmp_path / "h.txt").write_bytes(b"hello")
    (tmp_path / "pic.PNG").write_bytes(b"PNG")
    (tmp_path / "f.tar.gz").write_bytes(b"gz")
    (tmp_path / "hdr.txt").write_bytes(b"# comment\nX-A: 1\n\n  more\r\nX-B: 2\n")
    (tmp_path / "adir").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- -d, --data-binary, --data-raw, --json ------------------------------------------------


def test_data_pieces_join_with_ampersands_and_at_file_rules(files: pathlib.Path) -> None:
    got = body(data=[d("data", "@crlf.txt"), d("binary", "@crlf.txt"), d("raw", "@crlf.txt")])
    assert got == Body(
        "POST",
        URL,
        b"abc&a\r\nb\nc\r\n&@crlf.txt",
        None,
        [("Content-Type", b"application/x-www-form-urlencoded")],
    )
    assert body(data=[d("data", "a"), d("data", "b")]).content == b"a&b"
    assert body(data=[d("data", ""), d("data", "")]).content == b"&"
    assert body(data=[d("data", "@-")], stdin=b"x\r\ny\n").content == b"xy"
    assert body(data=[d("binary", "@-")], stdin=b"x\r\ny\n").content == b"x\r\ny\n"


def test_json_is_appended_without_ampersand_and_sets_its_headers() -> None:
    json_headers = [("Content-Type", b"application/json"), ("Accept", b"application/json")]
    got = body(data=[d("data", "a"), d("json", '{"x":1}'), d("data", "b")])
    assert (got.method, got.content, got.headers) == ("POST", b'a{"x":1}&b', json_headers)
    assert body(data=[d("json", "a"), d("json", "b")]).content == b"ab"
    assert body(data=[d("json", "a"), d("data", "b")]).content == b"a&b"
    # headers given with -H (or removed) are never added
    assert body(data=[d("json", "{}")], given=frozenset({"accept"})).headers == json_headers[:1]
    assert body(data=[d("data", "a")], given=frozenset({"content-type"})).headers == []


def test_unreadable_data_files_warn_and_send_nothing(files: pathlib.Path) -> None:
    got = body(data=[d("data", "a"), d("data", "@nonexist"), d("urlencode", "x@nonexist")])
    assert got.content == b"a&&"
    assert got.warnings == (
        'Couldn\'t read data from file "nonexist", this makes an empty POST.',
        'Couldn\'t read data from file "x@nonexist", this makes an empty POST.',
    )
    assert body(data=[d("data", "@adir")]).content == b""  # curl: no warning either
    for kind, option in [("binary", "--data-binary"), ("json", "--json")]:
        with pytest.raises(CliError) as caught:
            body(data=[d(kind, "@adir")])
        assert (caught.value.code, str(caught.value)) == (
            26,
            f"option {option}: error encountered when reading a file",
        )


ALL = " !\"#$%&'()*+,-./:;<>?[\\]^_`{|}~AZaz09\x01\x7f\u00e9"
ALL_ENCODED = (
    b"+%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3E%3F%5B%5C%5D%5E_%60%7B%7C%7D~"
    b"AZaz09%01%7F%C3%A9"
)


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        (ALL, ALL_ENCODED),
        ("=" + ALL, ALL_ENCODED),
        ("n=" + ALL, b"n=" + ALL_ENCODED),
        ("n=a=b@c", b"n=a%3Db%40c"),
        ("n@x=b", b"n@x=b"),  # "=" first: the name n@x, the content b
        ("@nl.txt", b"a+b%0D%0Ac%0A"),
        ("n@nl.txt", b"n=a+b%0D%0Ac%0A"),
        ("n@-", b"n=in%FF"),
        ("", b""),
    ],
)
def test_data_urlencode_forms(files: pathlib.Path, arg: str, expected: bytes) -> None:
    (files / "nl.txt").write_bytes(b"a b\r\nc\n")
    assert body(data=[d("urlencode", arg)], stdin=b"in\xff").content == expected


# -- -G ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/p", "http://h/p?a=1&b"),
        ("http://h/p?x=1", "http://h/p?x=1&a=1&b"),
        ("http://h/p?", "http://h/p?a=1&b"),
        ("http://h/p?x#frag", "http://h/p?x&a=1&b#frag"),
        ("h", "h?a=1&b"),
    ],
)
def test_get_puts_the_data_in_the_query(url: str, expected: str) -> None:
    got = body(data=[d("data", "a=1"), d("data", "b")], get=True, url=url)
    assert got == Body(None, expected, None, None, [])
    assert body(data=[d("data", "a=1"), d("data", "b")], get=True, head=True, url=url) == got


def test_get_with_empty_data_or_json() -> None:
    assert body(data=[d("data", "")], get=True).url == URL
    got = body(data=[d("json", "{}")], get=True)  # curl 7.88 still sends the json headers
    assert (got.url, got.content, len(got.headers)) == (URL + "?{}", None, 2)
    assert body(data=[d("raw", "\udcff")], get=True).url == URL + "?\udcff"


# -- -T ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h:1/", "http://h:1/h.txt"),
        ("http://h:1", "http://h:1/h.txt"),
        ("http://h:1/dir", "http://h:1/dir"),
        ("http://h:1/dir/?q=a/b#f", "http://h:1/dir/h.txt?q=a/b#f"),
        ("http://h:1?q", "http://h:1/h.txt?q"),
        ("h/d/", "h/d/h.txt"),
    ],
)
def test_upload_appends_the_file_name(files: pathlib.Path, url: str, expected: str) -> None:
    got = body(upload="h.txt", url=url)
    try:
        assert (got.method, got.url, got.files, got.headers) == ("PUT", expected, None, [])
        assert got.opened == (got.content,)
        assert isinstance(got.content, io.BufferedReader)
        assert got.content.read() == b"hello"
    finally:
        got.close()
    assert got.content.closed


def test_upload_name_is_encoded_as_curl_does(files: pathlib.Path) -> None:
    name = "sp ace&x%+\u00e9!*'()~_-.[]{}"
    (files / "t").mkdir()
    (files / "t" / name).write_bytes(b"x")
    got = body(upload=f"adir/../t/{name}", url="http://h/d/")
    got.close()
    assert got.url == "http://h/d/sp%20ace%26x%25%2b%c3%a9%21%2a%27%28%29~_-.%5b%5d%7b%7d"
    (files / "a\\b").write_bytes(b"x")
    got = body(upload="a\\b", url="http://h/")
    got.close()
    assert got.url == "http://h/b"  # curl cuts at \ too


def test_upload_from_stdin_is_streamed(files: pathlib.Path) -> None:
    for name in ("-", "."):
        got = body(upload=name, url="http://h/d/", stdin=b"abc")
        assert (got.method, got.url, got.opened) == ("PUT", "http://h/d/", ())
        assert not isinstance(got.content, bytes | io.IOBase)  # an iterator: sent chunked
        assert b"".join(got.content) == b"abc"  # type: ignore[call-overload]


def test_upload_errors(files: pathlib.Path) -> None:
    with pytest.raises(CliError) as caught:
        body(upload="nonexist")
    assert (caught.value.code, str(caught.value)) == (
        26,
        "Failed to open/read local data from file/application",
    )
    got = body(upload="adir", url="http://h/")  # curl sends an empty chunked PUT
    assert (got.url, list(got.content)) == ("http://h/adir", [])  # type: ignore[call-overload]


# -- -F and --form-string -----------------------------------------------------------------------


def form(*args: str, literal: bool = False, stdin: bytes = b"") -> Body:
    return body(form=[FormArg(a, literal) for a in args], stdin=stdin)


def parts(got: Body) -> list[tuple[str, object]]:
    """``files`` with file objects read (and closed)."""
    assert got.files is not None
    out: list[tuple[str, object]] = []
    for name, value in got.files:
        assert isinstance(value, tuple)
        content = value[1]
        if hasattr(content, "read"):
            assert content in got.opened
            content = content.read()
        out.append((name, (value[0], content, *value[2:])))
    got.close()
    return out


def test_form_text_fields_and_quoting() -> None:
    got = form("a=value", 'b="x;y"', 'c="q\\"b\\\\s";type=x/y', "d= v ", "e=", "=x")
    assert (got.method, got.content, got.headers, got.warnings) == ("POST", None, [], ())
    assert parts(got) == [
        ("a", (None, b"value", None, None)),
        ("b", (None, b"x;y", None, None)),
        ("c", (None, b'q"b\\s', "x/y", None)),
        ("d", (None, b"v", None, None)),
        ("e", (None, b"", None, None)),
        ("", (None, b"x", None, None)),
    ]
    assert parts(form("a=@b;type=x", literal=True)) == [("a", (None, b"@b;type=x"))]


def test_form_files_types_and_names(files: pathlib.Path) -> None:
    got = form(
        "a=@h.txt",
        "b=@pic.PNG",
        "c=@f.tar.gz",
        "d=@h.txt;type=a/b;filename=zz",
        "e=@h.txt;filename=x.png",
        "e2=@pic.PNG;filename=n.bin",
        'f=@"h.txt";type=a/b; charset=x;filename=" q.bin"',
        "g=<crlf.txt",
        "h=<h.txt;type=a/b",
        "i=@adir",
        "j=@-",
    )
    assert parts(got) == [
        ("a", ("h.txt", b"hello", "text/plain", None)),
        ("b", ("pic.PNG", b"PNG", "image/png", None)),
        ("c", ("f.tar.gz", b"gz", "application/octet-stream", None)),
        ("d", ("zz", b"hello", "a/b", None)),
        ("e", ("x.png", b"hello", "image/png", None)),
        ("e2", ("n.bin", b"PNG", "image/png", None)),  # curl: then from the file's own name
        ("f", (" q.bin", b"hello", "a/b; charset=x", None)),
        ("g", (None, b"a\r\nb\nc\r\n", None, None)),
        ("h", (None, b"hello", "a/b", None)),
        ("i", ("adir", b"", "application/octet-stream", None)),
        ("j", ("-", b"", None, None)),
    ]


def test_form_part_headers_and_warnings(files: pathlib.Path) -> None:
    got = form("a=x;headers=X-Y: 1;headers=@hdr.txt;foo=1", 'b="v"w;headers=@nonexist')
    assert parts(got) == [
        ("a", (None, b"x", None, [("X-Y", b"1"), ("X-A", b"1  more"), ("X-B", b"2")])),
        ("b", (None, b"v", None, None)),
    ]
    assert got.warnings == (
        "skip unknown form field: foo=1",
        "Trailing data after quoted form parameter",
        "Cannot read from nonexist: No such file or directory",
    )


@pytest.mark.parametrize(
    ("arg", "code", "message"),
    [
        ("noeq", 2, "option -F: is badly used here (Illegally formatted input field)"),
        ("a=x;type=b", 2, "option -F: is badly used here (Illegally formatted content-type field)"),
        (
            "a=x;type=/b",
            2,
            "option -F: is badly used here (Illegally formatted content-type field)",
        ),
        ("a=@nonexist", 26, "Failed to open/read local data from file/application"),
        ("a=<nonexist", 26, "Failed to open/read local data from file/application"),
        ("a=@", 26, "Failed to open/read local data from file/application"),
    ],
)
def test_form_errors(files: pathlib.Path, arg: str, code: int, message: str) -> None:
    with pytest.raises(CliError) as caught:
        form("ok=@h.txt", arg)  # the file opened first is closed: no ResourceWarning
    assert (caught.value.code, str(caught.value)) == (code, message)


def test_form_refuses_what_it_cannot_send_as_curl(files: pathlib.Path) -> None:
    for arg in ("a=@h.txt,crlf.txt", "a=@h.txt;encoder=base64"):
        with pytest.raises(CliError) as caught:
            form(arg)
        assert caught.value.code == 2
    with pytest.raises(CliError) as caught:
        form("noeq", literal=True)
    assert (
        str(caught.value)
        == "option --form-string: is badly used here (Illegally formatted input field)"
    )


# -- conflicts (curl's messages, exit 2) -------------------------------------------------------

POST, FORM, HEAD = "POST (-d, --data)", "multipart formpost (-F, --form)", "HEAD (-I, --head)"
PUT, GET = "PUT (-T, --upload-file)", "GET (-G, --get)"


@pytest.mark.parametrize(
    ("options", "new", "old"),
    [
        ({"data": [d("data", "a")], "form": [FormArg("b=c", False)]}, POST, FORM),
        ({"data": [d("json", "a")], "form": [FormArg("b=c", False)]}, POST, FORM),
        ({"data": [d("data", "a")], "upload": "h.txt"}, PUT, POST),
        ({"data": [d("data", "a")], "head": True}, POST, HEAD),
        ({"form": [FormArg("b=c", False)], "upload": "h.txt"}, PUT, FORM),
        ({"head": True, "upload": "h.txt"}, PUT, HEAD),
        ({"head": True, "form": [FormArg("b=c", False)]}, FORM, HEAD),
        ({"get": True, "data": [d("data", "a")], "upload": "h.txt"}, PUT, GET),
        ({"get": True, "head": True, "data": [d("data", "a")], "upload": "h.txt"}, PUT, HEAD),
        ({"get": True, "data": [d("data", "a")], "form": [FormArg("b=c", False)]}, GET, FORM),
        ({"head": True, "data": [d("data", "a")], "upload": "h.txt"}, POST, HEAD),
    ],
)
def test_conflicting_options(options: dict[str, Any], new: str, old: str) -> None:
    with pytest.raises(CliError) as caught:
        body(**options)
    assert caught.value.code == 2
    assert str(caught.value) == (
        f"You can only select one HTTP request method! You asked for both {new} and {old}."
    )


def test_options_curl_lets_go_together(files: pathlib.Path) -> None:
    got = body(get=True, upload="h.txt")
    got.close()
    assert (got.method, got.url) == ("PUT", URL)
    assert parts(body(get=True, form=[FormArg("a=b", False)])) == [("a", (None, b"b", None, None))]
    assert body(head=True) == Body(None, URL, None, None, [])
    assert body() == Body(None, URL, None, None, [])


# -- end to end: what a Session sends for a Body, and what curl sends ----------------------------

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
FRAMING = ("content-type", "content-length", "transfer-encoding")


async def recorder(conn: RawConnection) -> None:
    """Record (request line, framing headers, decoded body); answer 100 to an Expect."""
    for _ in range(10):
        try:
            head = await conn.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        fields = dict(head_fields(head))
        if fields.get("expect", "").lower() == "100-continue":
            await conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        if fields.get("transfer-encoding") == "chunked":
            content = await read_chunked(conn.reader)
        else:
            content = await conn.reader.readexactly(int(fields.get("content-length", 0)))
        framing = {k: v for k, v in fields.items() if k in FRAMING or v == "application/json"}
        line = head.split(b"\r\n")[0].decode()
        conn.server.requests.append(json.dumps([line, framing, content.hex()]).encode())
        await conn.send(OK)


async def send(got: Body, server: RawServer) -> list[Any]:
    try:
        async with rawhttp.Session() as session:
            response = await session.request(
                got.method or "GET",
                got.url,
                content=got.content,
                files=got.files,
                headers=got.headers,
                timeout=rawhttp.Timeout(10.0),
            )
            assert response.status == 200
    finally:
        got.close()
    return list(json.loads(server.requests.pop()))


async def curl(server: RawServer, *args: str, stdin: bytes = b"") -> list[Any]:
    if CURL is None:
        pytest.skip(NEEDS_CURL)
    proc = await asyncio.create_subprocess_exec(
        CURL, "-sS", "-o", os.devnull, "--max-time", "10", *args,
        stdin=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(stdin), 20)
    assert proc.returncode == 0, err
    return list(json.loads(server.requests.pop()))


FORM_CT = {"content-type": "application/x-www-form-urlencoded"}
WIRE = [
    (
        ["-d", "@crlf.txt", "--data-binary", "@crlf.txt", "--data-urlencode", "n=a b&c"],
        {"data": [d("data", "@crlf.txt"), d("binary", "@crlf.txt"), d("urlencode", "n=a b&c")]},
        ["POST /p HTTP/1.1", {"content-length": "22", **FORM_CT}, b"abc&a\r\nb\nc\r\n&n=a+b%26c"],
    ),
    (
        ["-d", "a", "--json", "[1]"],
        {"data": [d("data", "a"), d("json", "[1]")]},
        [
            "POST /p HTTP/1.1",
            {"content-type": "application/json", "accept": "application/json"}
            | {"content-length": "4"},
            b"a[1]",
        ],
    ),
    (
        ["-G", "-d", "a=1", "-d", "b"],
        {"data": [d("data", "a=1"), d("data", "b")], "get": True},
        ["GET /p?a=1&b HTTP/1.1", {}, b""],
    ),
    (
        ["-T", "h.txt"],
        {"upload": "h.txt"},
        ["PUT /p/h.txt HTTP/1.1", {"content-length": "5"}, b"hello"],
    ),
    (
        ["-T", "-"],
        {"upload": "-"},
        ["PUT /p/ HTTP/1.1", {"transfer-encoding": "chunked"}, b"from stdin"],
    ),
]


@pytest.mark.parametrize(("argv", "options", "expected"), WIRE)
async def test_a_session_sends_the_body_as_curl_does(
    raw_server: MakeServer,
    files: pathlib.Path,
    argv: list[str],
    options: dict[str, Any],
    expected: list[Any],
) -> None:
    server = await raw_server(recorder)
    url = server.url("/p/" if "upload" in options else "/p")
    got = body(**options, url=url, stdin=b"from stdin")
    expected = [expected[0], expected[1], expected[2].hex()]
    assert await send(got, server) == expected
    assert await curl(server, *argv, url, stdin=b"from stdin") == expected


def describe(request: Request) -> Response:
    """The parts as Werkzeug parsed them (the boundary left out)."""
    view = {
        "form": [[k, v] for k, v in request.form.items(multi=True)],
        "files": [
            [k, f.filename, f.content_type, f.read().hex(), f.headers.get("X-A")]
            for k, f in request.files.items(multi=True)
        ],
    }
    return Response(json.dumps(view), content_type="application/json")


async def test_form_parts_parse_as_curls(httpserver: HTTPServer, files: pathlib.Path) -> None:
    httpserver.expect_request("/form").respond_with_handler(describe)
    url = httpserver.url_for("/form")
    args = ["a=v", 'b="x;y"', "c=@h.txt", "d=@pic.PNG;filename=n.bin", "e=<crlf.txt"]
    args += ["f=@f.tar.gz;type=a/b;headers=X-A: 1", "g=w;type=text/x"]
    expected = {
        "form": [["a", "v"], ["b", "x;y"], ["e", "a\r\nb\nc\r\n"], ["g", "w"]],
        "files": [
            ["c", "h.txt", "text/plain", b"hello".hex(), None],
            ["d", "n.bin", "image/png", b"PNG".hex(), None],
            ["f", "f.tar.gz", "a/b", b"gz".hex(), "1"],
        ],
    }
    got = body(form=[FormArg(a, False) for a in args], url=url)
    try:
        async with rawhttp.Session() as session:
            response = await session.request(
                "POST", url, files=got.files, timeout=rawhttp.Timeout(10.0)
            )
    finally:
        got.close()
    assert json.loads(response.content) == expected
    if CURL is None:
        pytest.skip(NEEDS_CURL)
    argv = [x for a in args for x in ("-F", a)]
    proc = await asyncio.create_subprocess_exec(
        CURL, "-sS", "--max-time", "10", *argv, url, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 20)
    assert json.loads(out) == expected
