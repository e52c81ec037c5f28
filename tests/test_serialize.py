"""The request serializer: request line, Host, caller headers, Content-Length, validation."""

from __future__ import annotations

import pytest

from rawhttp import Headers, InvalidRequest
from rawhttp._serialize import Field, check_method, encode_field, encode_fields, request_head
from rawhttp._url import parse_url


def head(
    url: str,
    headers: object = None,
    *,
    method: str = "GET",
    content_length: int | None = None,
    chunked: bool = False,
) -> bytes:
    return request_head(
        method,
        parse_url(url),
        encode_fields(headers),  # type: ignore[arg-type]
        content_length=content_length,
        chunked=chunked,
    )


def lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n\r\n")
    return data[:-4].split(b"\r\n")


# -- request line and Host -----------------------------------------------------


def test_minimal_request_exact_bytes() -> None:
    assert head("http://example.com") == b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


@pytest.mark.parametrize(
    ("url", "request_line"),
    [
        ("http://example.com/", b"GET / HTTP/1.1"),
        ("http://example.com/a/b?c=d&e", b"GET /a/b?c=d&e HTTP/1.1"),
        ("http://example.com/a b#frag", b"GET /a%20b HTTP/1.1"),
        ("http://example.com?q", b"GET /?q HTTP/1.1"),
        ("http://user:pw@example.com/x", b"GET /x HTTP/1.1"),
    ],
)
def test_request_line(url: str, request_line: bytes) -> None:
    assert lines(head(url))[0] == request_line


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "PROPFIND", "M-SEARCH", "get", "X~!"])
def test_request_line_method(method: str) -> None:
    assert lines(head("http://h/", method=method))[0] == method.encode() + b" / HTTP/1.1"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://example.com/", b"example.com"),
        ("http://example.com:80/", b"example.com"),
        ("http://example.com:8080/", b"example.com:8080"),
        ("http://example.com:443/", b"example.com:443"),
        ("https://example.com/", b"example.com"),
        ("https://example.com:443/", b"example.com"),
        ("https://example.com:80/", b"example.com:80"),
        ("https://example.com:8443/", b"example.com:8443"),
        ("http://EXAMPLE.com/", b"example.com"),
        ("http://127.0.0.1:8000/", b"127.0.0.1:8000"),
        ("http://[::1]/", b"[::1]"),
        ("http://[::1]:8080/", b"[::1]:8080"),
        ("https://[2001:DB8::1]:8443/", b"[2001:db8::1]:8443"),
        ("http://b\u00fccher.de/", b"xn--bcher-kva.de"),
        ("http://user:pw@example.com:81/", b"example.com:81"),
    ],
)
def test_host_header_comes_first(url: str, host: bytes) -> None:
    assert lines(head(url, [("Accept", "*/*")]))[1:] == [b"Host: " + host, b"Accept: */*"]


def test_caller_headers_keep_order_and_case() -> None:
    got = head("http://h/", [("X-B", "1"), ("x-a", "2"), ("X-B", "3"), ("ACCEPT", "*/*")])
    assert lines(got) == [
        b"GET / HTTP/1.1",
        b"Host: h",
        b"X-B: 1",
        b"x-a: 2",
        b"X-B: 3",
        b"ACCEPT: */*",
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "1", "X-B": "2"},
        [("X-A", "1"), ("X-B", "2")],
        [(b"X-A", b"1"), (b"X-B", b"2")],
        Headers([("X-A", "1"), ("X-B", "2")]),
    ],
)
def test_header_input_forms(headers: object) -> None:
    assert lines(head("http://h/", headers))[2:] == [b"X-A: 1", b"X-B: 2"]


@pytest.mark.parametrize("name", ["Host", "host", "HOST"])
def test_caller_host_is_used_instead(name: str) -> None:
    got = head("http://example.com:8080/", [("Accept", "*/*"), (name, "other.example")])
    assert lines(got) == [
        b"GET / HTTP/1.1",
        b"Accept: */*",
        name.encode() + b": other.example",
    ]
    assert got.lower().count(b"host:") == 1


def test_two_host_headers_rejected() -> None:
    with pytest.raises(InvalidRequest, match="Host"):
        head("http://h/", [("Host", "a"), ("host", "b")])


# -- Content-Length and Transfer-Encoding ------------------------------------------


@pytest.mark.parametrize("length", [0, 1, 5, 10**12])
def test_content_length_added_for_bodies(length: int) -> None:
    got = head("http://h/", [("X", "y")], method="POST", content_length=length)
    assert lines(got) == [
        b"POST / HTTP/1.1",
        b"Host: h",
        b"X: y",
        b"Content-Length: %d" % length,
    ]


def test_no_content_length_without_body() -> None:
    assert b"content-length" not in head("http://h/").lower()


@pytest.mark.parametrize("name", ["Content-Length", "content-length"])
def test_matching_caller_content_length_not_duplicated(name: str) -> None:
    got = head("http://h/", [(name, "5"), ("X", "y")], method="POST", content_length=5)
    assert lines(got)[2:] == [name.encode() + b": 5", b"X: y"]


@pytest.mark.parametrize("value", ["4", "6", "05", "5, 5", "", "abc"])
def test_mismatching_caller_content_length_rejected(value: str) -> None:
    with pytest.raises(InvalidRequest, match="Content-Length"):
        head("http://h/", [("Content-Length", value)], method="POST", content_length=5)


def test_two_caller_content_lengths_rejected() -> None:
    with pytest.raises(InvalidRequest, match="more than one Content-Length"):
        head("http://h/", [("Content-Length", "5"), ("Content-Length", "5")], content_length=5)


def test_caller_content_length_zero_without_body_allowed() -> None:
    assert lines(head("http://h/", [("Content-Length", "0")]))[2:] == [b"Content-Length: 0"]


@pytest.mark.parametrize(
    "headers",
    [
        [("Content-Length", "10")],
        [("Transfer-Encoding", "chunked")],
    ],
)
def test_framing_header_without_body_rejected(headers: list[tuple[str, str]]) -> None:
    # No body is sent: announcing one would leave the server waiting for it.
    with pytest.raises(InvalidRequest, match="without a body"):
        head("http://h/", headers)


def test_caller_transfer_encoding_with_known_length_rejected() -> None:
    with pytest.raises(InvalidRequest, match="Transfer-Encoding"):
        head("http://h/", [("Transfer-Encoding", "chunked")], method="POST", content_length=3)


def test_chunked_adds_transfer_encoding() -> None:
    got = head("http://h/", [("X", "y")], method="POST", content_length=None, chunked=True)
    assert lines(got)[1:] == [b"Host: h", b"X: y", b"Transfer-Encoding: chunked"]


def test_chunked_keeps_caller_transfer_encoding() -> None:
    got = head("http://h/", [("transfer-encoding", "chunked")], method="POST", chunked=True)
    assert lines(got)[2:] == [b"transfer-encoding: chunked"]


def test_chunked_with_caller_content_length_rejected() -> None:
    with pytest.raises(InvalidRequest, match="Content-Length"):
        head("http://h/", [("Content-Length", "3")], method="POST", chunked=True)


# -- methods ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["GET", "HEAD", "OPTIONS", "PROPFIND", "M-SEARCH", "get", "!#$%&'*+-.^_`|~09"]
)
def test_check_method_valid(method: str) -> None:
    assert check_method(method) == method


@pytest.mark.parametrize(
    "method",
    [
        "",
        "GET ",
        " GET",
        "G ET",
        "GET\r\n",
        "GET\r\nX: y",
        "GET\n",
        "GET\r",
        "GET\x00",
        "GET\t",
        "GET\x7f",
        "GET\x1b",
        "G\u00c9T",
        "G(ET",
        "GET/",
        "GET:",
        'G"ET',
        b"GET",
        None,
        5,
    ],
)
def test_check_method_invalid(method: object) -> None:
    with pytest.raises(InvalidRequest, match="invalid method"):
        check_method(method)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="invalid method"):
        request_head(method, parse_url("http://h/"), [], content_length=None)  # type: ignore[arg-type]


# -- header fields -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("X-Test", "value", Field(b"X-Test", b"value", "x-test")),
        (b"X-Test", b"value", Field(b"X-Test", b"value", "x-test")),
        ("x", "", Field(b"x", b"", "x")),
        ("X", "  padded \t", Field(b"X", b"padded", "x")),
        ("X", "a\tb  c", Field(b"X", b"a\tb  c", "x")),
        ("X", "caf\u00e9", Field(b"X", b"caf\xe9", "x")),  # str values encode as latin-1
        ("X", b"\xe2\x82\xac", Field(b"X", b"\xe2\x82\xac", "x")),  # bytes pass unchanged
        ("X", b"\x80\xff", Field(b"X", b"\x80\xff", "x")),
        ("X", 42, Field(b"X", b"42", "x")),
        (
            "!#$%&'*+-.^_`|~09AZaz",
            "v",
            Field(b"!#$%&'*+-.^_`|~09AZaz", b"v", "!#$%&'*+-.^_`|~09azaz"),
        ),
    ],
)
def test_encode_field_valid(name: str | bytes, value: object, expected: Field) -> None:
    assert encode_field(name, value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "",
        "X Y",
        " X",
        "X ",
        "X:",
        "X:Y",
        "X\r\n",
        "X\rY",
        "X\nY",
        "X\x00",
        "X\t",
        "X\x7f",
        "X\x1f",
        "X\u00e9",
        b"X\xff",
        "X(Y)",
        "X/Y",
        "X@Y",
        '"X"',
    ],
)
def test_encode_field_invalid_name(name: str | bytes) -> None:
    with pytest.raises(InvalidRequest, match="invalid header name"):
        encode_field(name, "v")


@pytest.mark.parametrize(
    "value",
    [
        "a\rb",
        "a\nb",
        "a\r\nInjected: yes",
        "a\x00b",
        "\x00",
        "a\x01",
        "a\x08",
        "a\x0bb",
        "a\x0cb",
        "a\x1bb",
        "a\x1f",
        "a\x7fb",
        "abc\r\n",
        "\r\nabc",
        b"a\r\nb",
        b"a\x00",
        b"\x7f",
    ],
)
def test_encode_field_forbidden_value_characters(value: str | bytes) -> None:
    with pytest.raises(InvalidRequest, match="forbidden character"):
        encode_field("X", value)


@pytest.mark.parametrize("value", ["\u20ac", "\u0100", "\U0001f600", "caf\u00e9 \u2603"])
def test_encode_field_non_latin1_str_rejected(value: str) -> None:
    with pytest.raises(InvalidRequest, match="not latin-1"):
        encode_field("X", value)
    # the same text as UTF-8 bytes is accepted unchanged
    assert encode_field("X", value.encode()).value == value.encode()


@pytest.mark.parametrize("value", [None, True, 1.5, ["a"], object()])
def test_encode_field_value_type_rejected(value: object) -> None:
    with pytest.raises(InvalidRequest, match="must be str or bytes"):
        encode_field("X", value)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", [None, 5, ["X"]])
def test_encode_field_name_type_rejected(name: object) -> None:
    with pytest.raises(InvalidRequest, match="must be str or bytes"):
        encode_field(name, "v")  # type: ignore[arg-type]


def test_encode_fields_keeps_order_and_repeats() -> None:
    fields = encode_fields([("B", "1"), ("a", "2"), ("b", "3")])
    assert [(f.name, f.value, f.key) for f in fields] == [
        (b"B", b"1", "b"),
        (b"a", b"2", "a"),
        (b"b", b"3", "b"),
    ]


@pytest.mark.parametrize("headers", [None, {}, [], Headers()])
def test_encode_fields_empty(headers: object) -> None:
    assert encode_fields(headers) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("headers", [[("X",)], [("X", "y", "z")], [None], [5]])
def test_encode_fields_bad_pairs(headers: object) -> None:
    with pytest.raises(InvalidRequest, match="pairs"):
        encode_fields(headers)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "value"),
    [("X", "a\r\nb"), ("X\r\nY", "v"), ("X", "\x00"), ("Bad Name", "v"), ("X", "\u20ac")],
)
def test_invalid_field_refused_before_head_is_built(name: str, value: str) -> None:
    with pytest.raises(InvalidRequest):
        head("http://h/", [("Ok", "fine"), (name, value)])
