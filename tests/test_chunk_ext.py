"""Chunk extensions are checked against their grammar (RFC 9112 section 7.1.1):

    chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    chunk-ext-name = token
    chunk-ext-val  = token / quoted-string

with quoted-string, qdtext and quoted-pair from RFC 9110 section 5.6.4 and BWS = OWS
(SP / HTAB).  The parser is compared with a small recursive reading of that grammar
written out here, and its regular expression must stay linear-time on any input.
"""

from __future__ import annotations

import string
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_body_wire import CHUNKED, HOW, read_body

from rawhttp import ProtocolError
from rawhttp._parse import _CHUNK_SIZE_LINE, parse_chunk_size

TCHAR = frozenset(b"!#$%&'*+-.^_`|~" + (string.digits + string.ascii_letters).encode())
QDTEXT = frozenset(
    b"\t !" + bytes(range(0x23, 0x5C)) + bytes(range(0x5D, 0x7F)) + bytes(range(0x80, 0x100))
)
PAIRED = frozenset(b"\t" + bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100)))


def reference(ext: bytes) -> bool:
    """Whether ``ext`` is a chunk-ext, read straight from the ABNF, one byte at a time."""
    n = len(ext)

    def bws(i: int) -> int:
        while i < n and ext[i] in b" \t":
            i += 1
        return i

    def token(i: int) -> int:  # the index after a token starting at i (i: none)
        while i < n and ext[i] in TCHAR:
            i += 1
        return i

    def quoted(i: int) -> int | None:  # the index after a quoted-string starting at i
        i += 1  # DQUOTE
        while i < n:
            if ext[i] == ord('"'):
                return i + 1
            if ext[i] == ord("\\"):
                if i + 1 >= n or ext[i + 1] not in PAIRED:
                    return None
                i += 2
            elif ext[i] in QDTEXT:
                i += 1
            else:
                return None
        return None

    i = 0
    while i < n:
        i = bws(i)
        if i >= n or ext[i] != ord(";"):
            return False
        start = bws(i + 1)
        i = token(start)
        if i == start:
            return False  # chunk-ext-name = token: at least one tchar
        j = bws(i)
        if j < n and ext[j] == ord("="):
            j = bws(j + 1)
            if j < n and ext[j] == ord('"'):
                end = quoted(j)
                if end is None:
                    return False
            else:
                end = token(j)
                if end == j:
                    return False
            i = end
    return True


def accepted(line: bytes) -> bool:
    try:
        parse_chunk_size(line)
    except ProtocolError:
        return False
    return True


VALID = [
    b"",
    b";a",
    b";name=value",
    b";a=b;c=d",
    b" ;a",
    b"\t \t; a = b",
    b";a\t=\tb",
    b";a ;b",
    b';a=""',
    b';a="quoted; value"',
    b';a="with \\"escaped\\" quotes"',
    b';a="\\\\"',
    b';a="\\\t\\ \\\xe9"',
    b';a="\t !#[]~\x80\xff"',
    b";!#$%&'*+-.^_`|~09AZaz=!#$%&'*+-.^_`|~09AZaz",
    b';a="x" ; b ; c=d ;e="f"',
]
INVALID = [
    b";",  # the example of the issue: no name
    b"; ",
    b";;a",
    b";a;",
    b";a=",
    b";a= ",
    b";=b",
    b';a="b',  # an unbalanced quoted value
    b';a="b\\"',
    b';a="\\',
    b';a=b"',
    b';a="b"c',
    b';a="b""c"',
    b";a b",
    b";a=b c",
    b";a=b=c",
    b";a ",  # BWS only before ";" and around "="
    b";a=b ",
    b';a="b" ',
    b"x",  # not a hex digit: that would be part of the size
    b" ",
    b"\t",
    b";a@b",
    b";a=b@",
    b";a(b)",
    b";\xe9",
    b";a=\xe9",
    b';a="\x00"',
    b';a="\x7f"',
    b';a="\x1b"',
    b';a="\\\x00"',
    b';a="\\\x7f"',
    b";a\x00",
    b";a\rb",
    b';a="\r"',
    b';a="\\\r"',
    b";a\x0b",
]


@pytest.mark.parametrize("ext", VALID)
@pytest.mark.parametrize("ending", [b"\r\n", b"\n"])
def test_valid_chunk_extensions_are_skipped(ext: bytes, ending: bytes) -> None:
    assert reference(ext)
    assert parse_chunk_size(b"1a" + ext + ending) == 26


@pytest.mark.parametrize("ext", INVALID)
@pytest.mark.parametrize("ending", [b"\r\n", b"\n"])
def test_invalid_chunk_extensions_are_refused(ext: bytes, ending: bytes) -> None:
    assert not reference(ext)
    with pytest.raises(ProtocolError, match="malformed chunk size line"):
        parse_chunk_size(b"1a" + ext + ending)


ALPHABET = b' \t;="\\xZ-!\x80\xff\r\n\x00@,\x7f'
RANDOM_EXT = st.lists(st.sampled_from(list(ALPHABET)), max_size=30).map(bytes)
QUOTED = st.lists(
    st.one_of(
        st.sampled_from(sorted(QDTEXT)).map(lambda b: bytes([b])),
        st.sampled_from(sorted(PAIRED)).map(lambda b: b"\\" + bytes([b])),
    ),
    max_size=6,
).map(lambda parts: b'"' + b"".join(parts) + b'"')
TOKEN = st.lists(st.sampled_from(sorted(TCHAR)), min_size=1, max_size=6).map(bytes)
BWS = st.sampled_from([b"", b" ", b"\t", b" \t "])
GRAMMAR_EXT = st.lists(
    st.builds(
        lambda b1, b2, name, value: b1 + b";" + b2 + name + value,
        BWS,
        BWS,
        TOKEN,
        st.one_of(
            st.just(b""),
            st.builds(lambda b3, b4, v: b3 + b"=" + b4 + v, BWS, BWS, TOKEN | QUOTED),
        ),
    ),
    max_size=4,
).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(ext=st.one_of(RANDOM_EXT, GRAMMAR_EXT), ending=st.sampled_from([b"\r\n", b"\n"]))
def test_the_parser_reads_chunk_ext_as_the_grammar_does(ext: bytes, ending: bytes) -> None:
    line = b"5" + ext + ending
    # one CR right before the LF is part of the line ending
    between = line[1:-2] if line.endswith(b"\r\n") else line[1:-1]
    assert accepted(line) is reference(between)


@settings(max_examples=200, deadline=None)
@given(ext=GRAMMAR_EXT)
def test_every_extension_built_from_the_grammar_is_accepted(ext: bytes) -> None:
    assert parse_chunk_size(b"5" + ext + b"\r\n") == 5


# -- linear time on hostile input --------------------------------------------------


def quantifiers(pattern: bytes) -> list[tuple[int, bool]]:
    """Every quantifier of a regular expression: (where, whether it is possessive).
    Escapes and character classes are skipped; ``(?`` starts a group, not a quantifier."""
    found = []
    i = 0
    while i < len(pattern):
        c = pattern[i : i + 1]
        if c == b"\\":
            i += 2
            continue
        if c == b"[":
            i += 1
            while pattern[i : i + 1] != b"]":
                i += 2 if pattern[i : i + 1] == b"\\" else 1
            i += 1
            continue
        if c == b"(" and pattern[i + 1 : i + 2] == b"?":
            i += 2
            continue
        if c in (b"*", b"+", b"?", b"{"):
            end = pattern.index(b"}", i) + 1 if c == b"{" else i + 1
            found.append((i, pattern[end : end + 1] == b"+"))
            i = end + 1 if pattern[end : end + 1] == b"+" else end
            continue
        i += 1
    return found


def test_quantifier_scan_sees_greedy_and_possessive_ones() -> None:
    assert quantifiers(rb"a*+[*?+]b+(?:c)?d{1,2}\*e{3}+") == [
        (1, True),
        (9, False),
        (15, False),
        (17, False),
        (25, True),
    ]


def test_every_quantifier_of_the_chunk_line_pattern_is_possessive() -> None:
    """Linear by construction: no quantifier can give back what it matched, so each
    byte of the line is looked at a bounded number of times, whatever the input."""
    found = quantifiers(_CHUNK_SIZE_LINE.pattern)
    assert len(found) >= 12
    assert [at for at, possessive in found if not possessive] == []


HOSTILE = [
    b"1" + b" " * 1_000_000 + b"x\r\n",
    b"1" + b";a" * 500_000 + b";\r\n",
    b"1" + b"; a = b " * 125_000 + b"\r\n",
    b'1;a="' + b"\\\\" * 500_000 + b"\r\n",
    b'1;a="' + b'\\"' * 500_000 + b"\r\n",
    b"1" + b';a="b"' * 160_000 + b"\x00\r\n",
    b"1" + b";a=" * 330_000 + b"\r\n",
    b"1" + b"; \t" * 330_000 + b"a\r\r\n",
]


@pytest.mark.parametrize("line", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_lines_of_a_megabyte_are_refused_quickly(line: bytes) -> None:
    start = time.perf_counter()
    with pytest.raises(ProtocolError, match="malformed chunk size line"):
        parse_chunk_size(line)
    assert time.perf_counter() - start < 1.0  # linear: a few milliseconds


def test_a_long_valid_line_is_read_quickly() -> None:
    line = b"1" + b' ; name = "v\\"al;ue"' * 50_000 + b"\r\n"
    start = time.perf_counter()
    assert parse_chunk_size(line) == 1
    assert time.perf_counter() - start < 1.0


# -- through BodyReader, buffered and streamed ------------------------------------------


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize(
    "wire",
    [
        b"2;\r\nok\r\n0\r\n\r\n",
        b'2;a="b\r\nok\r\n0\r\n\r\n',
        b"2;a=\r\nok\r\n0\r\n\r\n",
        b"2;a \r\nok\r\n0\r\n\r\n",
        b"2\r\nok\r\n0;\r\n\r\n",
        b'2\r\nok\r\n0;x="\r\n\r\n',
        b"2\r\nok\r\n0;\xe9\r\nX: y\r\n\r\n",
    ],
)
async def test_bad_extensions_are_refused_on_every_path(how: str, wire: bytes) -> None:
    with pytest.raises(ProtocolError, match="malformed chunk size line"):
        await read_body(CHUNKED, wire, how, size=1)


@pytest.mark.parametrize("how", HOW)
async def test_good_extensions_are_skipped_on_every_path(how: str) -> None:
    wire = b'2 ; a = "b\\"c;d" ; e\r\nok\r\n1;f=g\n!\n0;h="";i\r\nX: y\r\n\r\n'
    got, body, rest, _ = await read_body(CHUNKED, wire + b"NEXT", how, size=1, eof=False)
    assert (body, rest, got.wire_bytes) == (b"ok!", b"NEXT", len(wire))
    assert got.trailers.items() == [("X", "y")]
