"""Response.encoding, .text and .json() on whatever a server sends: any charset label,
any bytes.  ``.text`` always returns a str; ``.json()`` returns or raises DecodingError."""

from __future__ import annotations

import codecs
import contextlib
import encodings
import encodings.aliases
import json
import pkgutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rawhttp

CODEC_NAMES = sorted(
    set(encodings.aliases.aliases)
    | set(encodings.aliases.aliases.values())
    | {module.name for module in pkgutil.iter_modules(encodings.__path__)}
)
"""Every codec alias and codec module name Python knows (and a few that are not codecs)."""


def response(body: bytes, content_type: str | None) -> rawhttp.Response:
    headers = [] if content_type is None else [("Content-Type", content_type)]
    return rawhttp.Response(
        status=200,
        reason="OK",
        http_version="HTTP/1.1",
        headers=rawhttp.Headers(headers),
        url="http://127.0.0.1/",
        method="GET",
        content=body,
    )


BODY = "caf\u00e9 \u20ac 1 \\ + - . \xff".encode()


@pytest.mark.parametrize(
    "charset",
    [
        "base64",
        "rot13",
        "rot_13",
        "hex",
        "zlib",
        "bz2",
        "quopri",
        "uu",
        "idna",
        "punycode",
        "undefined",
        "unicode_escape",
        "raw_unicode_escape",
        "mbcs",
        "aliases",
        "encodings",
        "",
        "no-such-charset",
        "utf-8\x00",
        "utf\u00e9-8",
        "x" * 1000,
        "../../os",
    ],
)
def test_a_charset_that_is_no_text_encoding_falls_back_to_utf8(charset: str) -> None:
    r = response(BODY, f"text/plain; charset={charset}")
    assert r.encoding == "utf-8"
    assert r.text == BODY.decode("utf-8", errors="replace")


@pytest.mark.parametrize(
    ("charset", "codec", "text"),
    [
        ("utf-8", "utf-8", "caf\u00e9 \u20ac"),
        ("UTF8", "utf-8", "caf\u00e9"),
        ("utf_8", "utf-8", "caf\u00e9"),
        ("UTF 8", "utf-8", "caf\u00e9"),
        ('"utf-8"', "utf-8", "caf\u00e9"),
        ("latin-1", "iso8859-1", "caf\u00e9"),
        ("ISO-8859-1", "iso8859-1", "caf\u00e9"),
        ("Windows-1252", "cp1252", "caf\u00e9 \u20ac"),
        ("ANSI_X3.4-1968", "ascii", "cafe"),
        ("us-ascii", "ascii", "cafe"),
        ("Shift_JIS", "shift_jis", "\u65e5\u672c"),
        ("utf-16", "utf-16", "caf\u00e9 \u20ac"),
        ("koi8_u", "koi8-u", "\u0441\u043b\u043e\u0432\u043e"),
        ("utf-8-sig", "utf-8-sig", "caf\u00e9"),
    ],
)
def test_a_text_charset_is_used(charset: str, codec: str, text: str) -> None:
    r = response(text.encode(codec), f"text/plain;charset={charset}")
    assert r.encoding == codec
    assert r.text == text


def test_no_charset_means_utf8() -> None:
    assert response(b"x", None).encoding == "utf-8"
    assert response(b"x", "text/plain").encoding == "utf-8"
    assert response("\u20ac".encode(), "text/plain; format=flowed").text == "\u20ac"


def test_unknown_labels_are_not_passed_to_the_codec_registry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Python's encodings package caches every name codecs.lookup() is asked for, a
    # miss too: labels a server invents must not reach it.
    from rawhttp._charset import text_codec

    asked: list[str] = []
    real = codecs.lookup

    def spy(name: str) -> codecs.CodecInfo:
        asked.append(name)
        return real(name)

    monkeypatch.setattr(codecs, "lookup", spy)
    for i in range(500):
        assert text_codec(f"x-invented-{i}") is None
        assert text_codec(f"utf-8-{i}") is None
    assert text_codec("utf---8") == "utf-8"
    assert [name for name in asked if "invented" in name or name.startswith("utf-8-")] == []


@pytest.mark.parametrize("name", CODEC_NAMES)
def test_every_codec_name_gives_a_str_for_hostile_bytes(name: str) -> None:
    samples = [b"", b"\xff\xfe\x00", b"\\x\\u12\\N{", b"+AGE-+", b"xn--\x80", bytes(range(256))]
    for body in samples:
        r = response(body, f"text/html; charset={name}")
        assert isinstance(r.text, str)
        # The encoding chosen decodes any bytes by itself (warnings are errors here).
        assert isinstance(body.decode(r.encoding, errors="replace"), str)


@pytest.mark.parametrize("codec", ["idna", "base64", "no-such-codec"])
def test_text_falls_back_if_the_codec_fails_anyway(
    monkeypatch: pytest.MonkeyPatch, codec: str
) -> None:
    # Defence in depth: should a later Python add a codec that raises on some bytes.
    import rawhttp._charset

    monkeypatch.setattr(rawhttp._charset, "text_codec", lambda label: codec)
    r = response(b"xn--\xff caf\xc3\xa9", "text/plain; charset=x")
    assert r.encoding == codec
    assert r.text == "xn--\ufffd caf\u00e9"


@settings(max_examples=300, deadline=None)
@given(
    body=st.binary(max_size=300),
    charset=st.one_of(
        st.sampled_from(CODEC_NAMES), st.text(max_size=40), st.from_regex(r"[\w.:+-]{1,30}")
    ),
)
def test_text_and_json_never_raise_builtin_errors(body: bytes, charset: str) -> None:
    r = response(body, f"application/json; charset={charset}")
    assert isinstance(r.encoding, str)
    assert isinstance(r.text, str)
    with contextlib.suppress(rawhttp.DecodingError):
        r.json()


@settings(max_examples=50, deadline=None)
@given(depth=st.integers(1, 200_000), opener=st.sampled_from([b"[", b'{"a":', b"[1,"]))
def test_json_nesting_of_any_depth(depth: int, opener: bytes) -> None:
    r = response(opener * depth, "application/json")
    with pytest.raises(rawhttp.DecodingError):
        r.json()  # never closed: invalid at any depth, too deep at large ones


def test_json_nested_too_deeply_is_a_decoding_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(rawhttp.DecodingError, match="nested too deeply") as info:
        response(deep, "application/json").json()
    assert isinstance(info.value.__cause__, RecursionError)
    shallow = b"[" * 50 + b"]" * 50
    assert response(shallow, "application/json").json() == json.loads(shallow)


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"\xff\xfe{", b"1" * 5000, b'"\\ud800"x', b"\x00\x00\x00[", b"NaN x"],
)
def test_invalid_json_is_a_decoding_error(body: bytes) -> None:
    with pytest.raises(rawhttp.DecodingError, match="not valid JSON"):
        response(body, "application/json").json()
