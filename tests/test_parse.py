"""Plain-bytes unit tests of the pure response parser (rawhttp._parse)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rawhttp import Headers, ProtocolError
from rawhttp._parse import (
    BodyKind,
    Framing,
    add_field_line,
    body_framing,
    field_lines,
    parse_chunk_size,
    parse_content_length,
    parse_status_line,
)

# -- status line -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\n", ("HTTP/1.1", 200, "OK")),
        (b"HTTP/1.0 200 OK\r\n", ("HTTP/1.0", 200, "OK")),
        (b"HTTP/1.1 404 Not Found\r\n", ("HTTP/1.1", 404, "Not Found")),
        (b"HTTP/1.1 100 Continue\r\n", ("HTTP/1.1", 100, "Continue")),
        (b"HTTP/1.1 599 Custom\r\n", ("HTTP/1.1", 599, "Custom")),
        # empty reason, with and without the SP before it
        (b"HTTP/1.1 204 \r\n", ("HTTP/1.1", 204, "")),
        (b"HTTP/1.1 204\r\n", ("HTTP/1.1", 204, "")),
        # the reason is kept exactly: inner and surrounding SP/HTAB, punctuation
        (b"HTTP/1.1 200  OK \r\n", ("HTTP/1.1", 200, " OK ")),
        (b"HTTP/1.1 200 A\tB\r\n", ("HTTP/1.1", 200, "A\tB")),
        (
            b"HTTP/1.1 418 I'm a teapot (RFC 2324)!\r\n",
            ("HTTP/1.1", 418, "I'm a teapot (RFC 2324)!"),
        ),
        # obs-text decodes as latin-1
        (b"HTTP/1.1 200 \xe9t\xe9 \xff\x80\r\n", ("HTTP/1.1", 200, "\xe9t\xe9 \xff\x80")),
    ],
)
def test_status_line_valid(line: bytes, expected: tuple[str, int, str]) -> None:
    assert parse_status_line(line) == expected


def test_status_line_obs_text_reason_round_trips() -> None:
    raw = bytes(range(0x80, 0x100))
    _, _, reason = parse_status_line(b"HTTP/1.1 200 " + raw + b"\r\n")
    assert reason.encode("latin-1") == raw


@pytest.mark.parametrize("status", [100, 101, 199, 200, 301, 499, 500, 599])
def test_status_code_range_accepted(status: int) -> None:
    assert parse_status_line(b"HTTP/1.1 %d X\r\n" % status)[1] == status


@pytest.mark.parametrize("status", [b"000", b"099", b"600", b"999", b"010"])
def test_status_code_out_of_range(status: bytes) -> None:
    with pytest.raises(ProtocolError, match="status code"):
        parse_status_line(b"HTTP/1.1 " + status + b" X\r\n")


@pytest.mark.parametrize(
    "line",
    [
        # versions
        b"HTTP/2.0 200 OK\r\n",
        b"HTTP/2 200 OK\r\n",
        b"HTTP/0.9 200 OK\r\n",
        b"HTTP/1.1x 200 OK\r\n",
        b"HTTP/1.10 200 OK\r\n",
        b"HTTP/1 200 OK\r\n",
        b"HTTP/11 200 OK\r\n",
        b"HTTP/1. 200 OK\r\n",
        b"http/1.1 200 OK\r\n",
        b"Http/1.1 200 OK\r\n",
        b"HTTPS/1.1 200 OK\r\n",
        b"ICY 200 OK\r\n",
        b"HTTP /1.1 200 OK\r\n",
        # status code digits
        b"HTTP/1.1 20 OK\r\n",
        b"HTTP/1.1 2000 OK\r\n",
        b"HTTP/1.1 2OO OK\r\n",
        b"HTTP/1.1 +20 OK\r\n",
        b"HTTP/1.1 -20 OK\r\n",
        b"HTTP/1.1 \xef\xbc\x92\xef\xbc\x90\xef\xbc\x90 OK\r\n",  # fullwidth digits
        b"HTTP/1.1 200OK\r\n",
        # separators
        b"HTTP/1.1  200 OK\r\n",
        b"HTTP/1.1\t200 OK\r\n",
        b"HTTP/1.1 200\tOK\r\n",
        b"HTTP/1.1200 OK\r\n",
        b" HTTP/1.1 200 OK\r\n",
        b"\tHTTP/1.1 200 OK\r\n",
        b"\r\nHTTP/1.1 200 OK\r\n",
        # line endings (CRLF and a bare LF are tested in test_bare_lf.py)
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK\r",
        b"HTTP/1.1 200 OK\n\r",
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\n\n",
        b"HTTP/1.1 200 OK\r\r\n",
        b"HTTP/1.1 200\r\r\n",
        b"HTTP/1.1 200 OK\r\r",
        # control characters in the reason
        b"HTTP/1.1 200 O\x00K\r\n",
        b"HTTP/1.1 200 O\rK\r\n",
        b"HTTP/1.1 200 O\nK\r\n",
        b"HTTP/1.1 200 O\x7fK\r\n",
        b"HTTP/1.1 200 O\x1bK\r\n",
        b"HTTP/1.1 200 O\rK\n",
        b"",
        b"\r\n",
        b"\n",
    ],
)
def test_status_line_malformed(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="malformed status line"):
        parse_status_line(line)


# -- header field lines --------------------------------------------------------


def fields_of(*lines: bytes) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for line in lines:
        add_field_line(fields, line)
    return fields


VALID_FIELD_LINES = [
    (b"Content-Type: text/html\r\n", ("Content-Type", "text/html")),
    (b"content-type: text/html\r\n", ("content-type", "text/html")),
    (b"X:y\r\n", ("X", "y")),
    (b"X:   y   \r\n", ("X", "y")),
    (b"X:\t y \t\r\n", ("X", "y")),
    (b"X:\r\n", ("X", "")),
    (b"X:   \r\n", ("X", "")),
    (b"X: a\tb\r\n", ("X", "a\tb")),
    (b"X: a   b\r\n", ("X", "a   b")),
    (b"X: a:b: c\r\n", ("X", "a:b: c")),
    (b'X: "quoted, string"; q=0.5\r\n', ("X", '"quoted, string"; q=0.5')),
    (b"X: \xe9\xff\x80\r\n", ("X", "\xe9\xff\x80")),
    (b"!#$%&'*+-.^_`|~09AZaz: v\r\n", ("!#$%&'*+-.^_`|~09AZaz", "v")),
]


@pytest.mark.parametrize(("line", "expected"), VALID_FIELD_LINES)
def test_field_line_valid(line: bytes, expected: tuple[str, str]) -> None:
    assert fields_of(line) == [expected]


# -- a whole section in one pass (field_lines) ----------------------------------

NGINX_HEAD = (
    b"Server: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 00:03:03 GMT\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 12\r\nConnection: keep-alive\r\n"
    b'ETag: "6754a1b2-c"\r\nAccept-Ranges: bytes\r\n\r\n'
)


def test_field_lines_of_a_whole_section() -> None:
    assert field_lines(NGINX_HEAD, 7) == [
        ("Server", "nginx/1.22.1"),
        ("Date", "Mon, 07 Dec 2026 00:03:03 GMT"),
        ("Content-Type", "text/plain"),
        ("Content-Length", "12"),
        ("Connection", "keep-alive"),
        ("ETag", '"6754a1b2-c"'),
        ("Accept-Ranges", "bytes"),
    ]
    assert field_lines(b"A: 1\nb:2 \r\nA:\n\n", 3) == [("A", "1"), ("b", "2"), ("A", "")]
    assert field_lines(b"\r\n", 0) == []


@pytest.mark.parametrize(("line", "expected"), VALID_FIELD_LINES)
def test_field_lines_gives_each_valid_line_as_add_field_line_does(
    line: bytes, expected: tuple[str, str]
) -> None:
    assert field_lines(b"First: 1\r\n" + line + b"\r\n", 2) == [("First", "1"), expected]


@pytest.mark.parametrize(
    "line",
    [
        b" folded\r\n",  # obs-fold: joined by add_field_line, line by line
        b"\tfolded\r\n",
        b"X : y\r\n",
        b"NoColon\r\n",
        b"X: a\rb\r\n",  # a lone CR
        b"X: a\x00b\r\n",
        b"X: a\x7fb\r\n",
        b"\xe9: z\r\n",
        b"X: y\r\r\n",
        b"  X: y\r\n",  # a valid field line after the whitespace: still not one
    ],
)
def test_field_lines_leaves_any_other_line_to_the_line_parser(line: bytes) -> None:
    assert field_lines(b"First: 1\r\n" + line + b"Last: 2\r\n\r\n", 3) is None


FIELD_NAME = st.text(alphabet="aZ09-_!", min_size=1, max_size=6).map(str.encode)
FIELD_VALUE = st.lists(st.sampled_from(list(b'ab \t\x80\xff"!:;')), max_size=8).map(bytes)
ANY_BYTES = st.lists(st.sampled_from(list(b'aZ09-_:; \t\r\x00\x7f\x80\xff"!')), max_size=12)
FIELD_LINE = st.one_of(
    st.builds(
        lambda n, ws, v: n + b":" + ws + v, FIELD_NAME, st.sampled_from([b"", b" "]), FIELD_VALUE
    ),
    st.builds(lambda v: b" " + v, FIELD_VALUE),  # obs-fold
    ANY_BYTES.map(bytes),
)


@settings(max_examples=500, deadline=None)
@given(lines=st.lists(FIELD_LINE, max_size=6), ending=st.sampled_from([b"\r\n", b"\n"]))
def test_field_lines_agrees_with_add_field_line(lines: list[bytes], ending: bytes) -> None:
    """Any section: one pass gives exactly what the line parser gives, or None (and
    then the line parser is the one that decides, so nothing valid is lost)."""
    lines = [line + ending for line in lines if line.rstrip(b"\r")]
    section = b"".join(lines) + ending
    fast = field_lines(section, len(lines))
    try:
        slow: list[tuple[str, str]] | None = fields_of(*lines)
    except ProtocolError:
        slow = None
    if fast is not None:
        assert fast == slow
    elif slow is not None:  # only obs-fold lines (joined) may make the one pass give up
        assert any(line[:1] in (b" ", b"\t") for line in lines)


def test_field_value_obs_text_round_trips_via_latin1() -> None:
    raw = bytes(range(0x80, 0x100))
    [(_, value)] = fields_of(b"X: " + raw + b"\r\n")
    assert value.encode("latin-1") == raw


def test_field_lines_append_in_order() -> None:
    assert fields_of(b"B: 1\r\n", b"a: 2\r\n", b"B: 3\r\n") == [("B", "1"), ("a", "2"), ("B", "3")]


@pytest.mark.parametrize(
    "line",
    [
        b"X : y\r\n",  # whitespace before the colon (RFC 9112 section 5.1)
        b"X\t: y\r\n",
        b": y\r\n",  # empty name
        b":\r\n",
        b"NoColon\r\n",
        b"no colon at all\r\n",
        b"X Y: z\r\n",
        b"X(: z\r\n",
        b"X/Y: z\r\n",
        b'X"Y: z\r\n',
        b"X@Y: z\r\n",
        b"X[Y]: z\r\n",
        b"X{Y}: z\r\n",
        b"X=Y: z\r\n",
        b"X\\Y: z\r\n",
        b"\xe9: z\r\n",  # non-ASCII name
        b"X\x00: z\r\n",
        b"X\x7f: z\r\n",
        b"\r\r\n",
    ],
)
def test_field_name_malformed(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="malformed header line"):
        fields_of(line)


@pytest.mark.parametrize(
    "char", [b"\x00", b"\r", b"\n", b"\x01", b"\x08", b"\x0b", b"\x0c", b"\x1b", b"\x1f", b"\x7f"]
)
@pytest.mark.parametrize("where", ["inside", "start", "end"])
def test_field_value_control_characters_rejected(char: bytes, where: str) -> None:
    value = {"inside": b"a" + char + b"b", "start": char + b"ab", "end": b"ab" + char}[where]
    with pytest.raises(ProtocolError, match="forbidden character"):
        fields_of(b"X: " + value + b"\r\n")


@pytest.mark.parametrize("line", [b"X: y", b"X: y\r", b"X: y\n\r", b"X: y\r\r", b""])
def test_field_line_without_line_ending_rejected(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="not terminated by CRLF or LF"):
        fields_of(line)


@pytest.mark.parametrize("line", [b"\n", b"\r\n", b"\r\r\n", b"X: y\r\r\n"])
def test_empty_or_cr_ended_field_line_rejected(line: bytes) -> None:
    """An empty line ends a section before it reaches add_field_line; one CR before
    the LF is the line ending, a second is a lone CR (in the name or the value)."""
    with pytest.raises(ProtocolError, match=r"malformed header line|forbidden character"):
        fields_of(line)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([b"X: a\r\n", b" b\r\n"], [("X", "a b")]),
        ([b"X: a\r\n", b"\tb\r\n"], [("X", "a b")]),
        ([b"X: a  \r\n", b"  \t b  \r\n"], [("X", "a b")]),
        ([b"X: a\r\n", b" b\r\n", b" c\r\n"], [("X", "a b c")]),
        ([b"X:\r\n", b" b\r\n"], [("X", "b")]),
        ([b"X: a\r\n", b"   \r\n"], [("X", "a")]),
        ([b"X: a\r\n", b"Y: b\r\n", b" c\r\n"], [("X", "a"), ("Y", "b c")]),
        ([b"X: a\r\n", b" \xe9\r\n"], [("X", "a \xe9")]),
    ],
)
def test_obs_fold_is_unfolded_into_previous_value(
    lines: list[bytes], expected: list[tuple[str, str]]
) -> None:
    assert fields_of(*lines) == expected


@pytest.mark.parametrize("line", [b" X: y\r\n", b"\tX: y\r\n", b" \r\n"])
def test_obs_fold_as_first_line_rejected(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="starts with whitespace"):
        fields_of(line)


@pytest.mark.parametrize("continuation", [b" a\x00b\r\n", b" a\rb\r\n", b" a\x7f\r\n"])
def test_obs_fold_continuation_with_control_character_rejected(continuation: bytes) -> None:
    with pytest.raises(ProtocolError, match="forbidden character"):
        fields_of(b"X: a\r\n", continuation)


def test_obs_fold_continuation_needs_a_line_ending() -> None:
    with pytest.raises(ProtocolError, match="CRLF or LF"):
        fields_of(b"X: a\r\n", b" b\r")


# -- Content-Length ------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["0"], 0),
        (["5"], 5),
        (["007"], 7),
        (["1234567890"], 1234567890),
        (["9" * 18], 10**18 - 1),
        (["5", "5"], 5),
        (["5, 5"], 5),
        (["5,5"], 5),
        (["5 ,\t5"], 5),
        (["5, 5", "5"], 5),
        (["05", "5"], 5),
    ],
)
def test_content_length_valid(values: list[str], expected: int) -> None:
    assert parse_content_length(values) == expected


@pytest.mark.parametrize(
    "values",
    [
        ["5", "6"],
        ["5, 6"],
        ["5", "5, 6"],
        ["0", "1"],
    ],
)
def test_content_length_conflicting(values: list[str]) -> None:
    with pytest.raises(ProtocolError, match="conflicting"):
        parse_content_length(values)


@pytest.mark.parametrize(
    "value",
    [
        "+5",
        "-5",
        "5_0",
        "5 0",
        "5\t0",
        "0x5",
        "5.0",
        "1e3",
        "five",
        "\uff15",  # FULLWIDTH DIGIT FIVE: int() accepts it
        "\u0665",  # ARABIC-INDIC DIGIT FIVE
        "\u00b2",  # SUPERSCRIPT TWO
        "",
        " ",
        "5,",
        ",5",
        "5,,5",
        "5, ,5",
        "1" * 19,
        "0" * 19,
        "5;q=1",
    ],
)
def test_content_length_invalid(value: str) -> None:
    with pytest.raises(ProtocolError, match="Content-Length"):
        parse_content_length([value])


def test_content_length_no_values() -> None:
    with pytest.raises(ProtocolError, match="empty Content-Length"):
        parse_content_length([])


# -- chunk size ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"0\r\n", 0),
        (b"000\r\n", 0),
        (b"1\r\n", 1),
        (b"a\r\n", 10),
        (b"A\r\n", 10),
        (b"1aF\r\n", 0x1AF),
        (b"00000010\r\n", 16),
        (b"f" * 16 + b"\r\n", 2**64 - 1),
        # extensions are skipped
        (b"5;name\r\n", 5),
        (b"5;name=value\r\n", 5),
        (b'5;name="quoted; value"\r\n', 5),
        (b"5;a=b;c=d\r\n", 5),
        (b"5 ;a\r\n", 5),
        (b"5\t \t; a = b\r\n", 5),
        (b'5;a="\xe9\xff"\r\n', 5),  # obs-text in a quoted-string
    ],
)
def test_chunk_size_valid(line: bytes, expected: int) -> None:
    assert parse_chunk_size(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        b"\r\n",
        b"1" * 17 + b"\r\n",  # more than 16 hex digits
        b"0" * 17 + b"\r\n",
        b"5",
        b"5\r",
        b"5\r\n\r\n",
        b"5\n\n",
        b"5\r\r\n",
        b"5;a\r\r\n",
        b"5;\t\xe9\xff\r\n",  # an extension name is a token (see test_chunk_ext.py)
        b"+1\r\n",
        b"-1\r\n",
        b" 1\r\n",
        b"\t1\r\n",
        b"1 \r\n",
        b"0x5\r\n",
        b"5_0\r\n",
        b"g\r\n",
        b"5 x\r\n",
        b"5x\r\n",
        b"\xef\xbc\x95\r\n",  # fullwidth 5
        # control characters in an extension
        b"5;a\x00\r\n",
        b"5;a\rb\r\n",
        b"5;a\nb\r\n",
        b"5;a\x7f\r\n",
        b"5;a\x1b\r\n",
    ],
)
def test_chunk_size_malformed(line: bytes) -> None:
    with pytest.raises(ProtocolError, match="chunk size line"):
        parse_chunk_size(line)


# -- body framing --------------------------------------------------------------


def framing(
    *fields: tuple[str, str], method: str = "GET", status: int = 200, version: str = "HTTP/1.1"
) -> Framing:
    return body_framing(method, status, version, Headers(list(fields)))


@pytest.mark.parametrize(
    ("method", "status"),
    [
        ("HEAD", 200),
        ("HEAD", 404),
        ("GET", 100),
        ("GET", 103),
        ("GET", 199),
        ("GET", 204),
        ("GET", 304),
        ("POST", 204),
    ],
)
@pytest.mark.parametrize(
    "fields",
    [
        (),
        (("Content-Length", "10"),),
        (("Transfer-Encoding", "chunked"),),
        (("Transfer-Encoding", "gzip"), ("Content-Length", "10")),
        (("Content-Length", "garbage"),),
    ],
)
def test_no_body(method: str, status: int, fields: tuple[tuple[str, str], ...]) -> None:
    assert framing(*fields, method=method, status=status) == Framing(BodyKind.NONE, 0, True)


@pytest.mark.parametrize(
    "value", ["chunked", "Chunked", "CHUNKED", " chunked ", "chunked, ", ", chunked"]
)
def test_chunked(value: str) -> None:
    assert framing(("Transfer-Encoding", value)) == Framing(BodyKind.CHUNKED, 0, True)


@pytest.mark.parametrize(
    "fields",
    [
        (("Transfer-Encoding", "chunked"), ("Content-Length", "5")),
        (("Content-Length", "5"), ("Transfer-Encoding", "chunked")),
        (("Transfer-Encoding", "gzip"), ("Content-Length", "5")),
        (("Transfer-Encoding", ""), ("Content-Length", "5")),
    ],
)
def test_transfer_encoding_and_content_length_rejected(fields: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(ProtocolError, match="both Transfer-Encoding and Content-Length"):
        framing(*fields)


@pytest.mark.parametrize(
    "values",
    [
        ["gzip"],
        ["identity"],
        ["deflate"],
        ["gzip, chunked"],
        ["chunked, gzip"],
        ["chunked, chunked"],
        ["chunked", "chunked"],
        ["gzip", "chunked"],
        ["chunked;q=1"],
        ["chunked chunked"],
        ["x-chunked"],
        [""],
        [" , "],
    ],
)
def test_transfer_encoding_other_than_exactly_chunked_rejected(values: list[str]) -> None:
    with pytest.raises(ProtocolError, match="Transfer-Encoding"):
        framing(*[("Transfer-Encoding", v) for v in values])


def test_http10_with_transfer_encoding_rejected() -> None:
    with pytest.raises(ProtocolError, match=r"HTTP/1\.0"):
        framing(("Transfer-Encoding", "chunked"), version="HTTP/1.0")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ((("Content-Length", "0"),), Framing(BodyKind.LENGTH, 0, True)),
        ((("Content-Length", "5"),), Framing(BodyKind.LENGTH, 5, True)),
        ((("Content-Length", "5"), ("content-length", "5")), Framing(BodyKind.LENGTH, 5, True)),
        ((("Content-Length", "5, 5"),), Framing(BodyKind.LENGTH, 5, True)),
    ],
)
def test_content_length_framing(fields: tuple[tuple[str, str], ...], expected: Framing) -> None:
    assert framing(*fields) == expected


@pytest.mark.parametrize(
    "fields",
    [
        (("Content-Length", "5"), ("Content-Length", "6")),
        (("Content-Length", "-1"),),
        (("Content-Length", ""),),
        (("Content-Length", "1" * 19),),
    ],
)
def test_bad_content_length_framing_rejected(fields: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(ProtocolError, match="Content-Length"):
        framing(*fields)


@pytest.mark.parametrize("version", ["HTTP/1.1", "HTTP/1.0"])
@pytest.mark.parametrize(
    "fields", [(), (("Connection", "keep-alive"),), (("Content-Type", "text/plain"),)]
)
def test_no_framing_reads_until_close_and_never_reuses(
    version: str, fields: tuple[tuple[str, str], ...]
) -> None:
    assert framing(*fields, version=version) == Framing(BodyKind.CLOSE, 0, False)


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        ("HTTP/1.1", [], True),
        ("HTTP/1.1", ["keep-alive"], True),
        ("HTTP/1.1", ["close"], False),
        ("HTTP/1.1", ["Close"], False),
        ("HTTP/1.1", ["CLOSE"], False),
        ("HTTP/1.1", ["upgrade, close"], False),
        ("HTTP/1.1", ["keep-alive", "close"], False),
        ("HTTP/1.1", ["close, keep-alive"], False),
        ("HTTP/1.1", ["closed"], True),
        ("HTTP/1.1", ["x-close"], True),
        ("HTTP/1.1", ["upgrade"], True),
        # empty list elements are ignored (RFC 9110 section 5.6.1.2)
        ("HTTP/1.1", [""], True),
        ("HTTP/1.1", ["close, "], False),
        ("HTTP/1.1", [", , close"], False),
        ("HTTP/1.0", [], False),
        ("HTTP/1.0", ["keep-alive"], True),
        ("HTTP/1.0", ["Keep-Alive"], True),
        ("HTTP/1.0", ["foo, keep-alive"], True),
        ("HTTP/1.0", ["keep-alive, "], True),
        ("HTTP/1.0", ["keep-alive", "close"], False),
        ("HTTP/1.0", ["close"], False),
        ("HTTP/1.0", ["keepalive"], False),
        ("HTTP/1.0", [""], False),
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_keep_alive(version: str, connection: list[str], keep_alive: bool, method: str) -> None:
    fields = [("Connection", v) for v in connection] + [("Content-Length", "3")]
    result = framing(*fields, version=version, method=method)
    assert result.keep_alive is keep_alive
    assert result.kind is (BodyKind.NONE if method == "HEAD" else BodyKind.LENGTH)


def test_chunked_with_connection_close() -> None:
    result = framing(("Transfer-Encoding", "chunked"), ("Connection", "close"))
    assert result == Framing(BodyKind.CHUNKED, 0, False)
