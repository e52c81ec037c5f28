"""Pure parsing of HTTP/1.1 response heads and framing (RFC 9112): bytes in, values out.

Nothing here touches a socket.  Each function takes one complete line (with
its line ending) or parsed headers and returns a value or raises
:class:`ProtocolError`.  Grammar is checked with a regular expression before
any ``int()`` conversion, because ``int()`` also accepts ``+5``, ``5_0``,
``" 5 "`` and non-ASCII digits.

Line endings: a line ends at LF, and one CR right before it is part of the line
ending (RFC 9112 section 2.2: a recipient MAY recognize a single LF as a line
terminator and ignore any preceding CR).  So CRLF and a bare LF are both accepted,
in status lines, field lines and chunk-size lines alike; a CR anywhere else (a lone
CR) is an error.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

from ._exceptions import ProtocolError, ProtocolRule
from ._headers import Headers

__all__ = [
    "BodyKind",
    "Framing",
    "accepted_transfer_codings",
    "add_field_line",
    "body_framing",
    "field_lines",
    "parse_chunk_size",
    "parse_content_length",
    "parse_status_line",
    "request_te",
]

# status-line = HTTP-version SP status-code SP [ reason-phrase ]        (RFC 9112 section 4)
# HTTP-version = "HTTP" "/" DIGIT "." DIGIT ; only major version 1 here
# status-code = 3DIGIT ; reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
# A missing SP before an empty reason is tolerated: it carries no meaning.
# The line ends in CRLF or a bare LF (see the module docstring); the reason holds no CR.
_STATUS_LINE = re.compile(rb"HTTP/1\.([0-9]) ([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?\r?\n")
_HTTP1 = re.compile(rb"HTTP/1\.[0-9] ")
_HTTP1_STATUS = re.compile(rb"HTTP/1\.[0-9] [0-9]{3}(?:[ \r\n]|$)")
"""How much of a status line that does not match is right, telling which rule it breaks."""

# field-name = token ; token = 1*tchar                                  (RFC 9110 section 5.1)
# tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
#         / DIGIT / ALPHA
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# field-value = *field-content ; field-vchar = VCHAR / obs-text, with SP / HTAB inside.
# So after trimming, anything in C0 other than HTAB, or DEL, is invalid (this includes CR, LF, NUL).
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")

# The common case in one pass: field-name ":" OWS field-value OWS (CRLF or LF), value
# made of field-vchar runs with single SP/HTAB runs between them.  Possessive
# quantifiers keep it linear on any input; a line it does not match goes to the
# precise checks.
_FIELD_LINE_SOURCE = (
    r"([!#$%&'*+\-.^_`|~0-9A-Za-z]++):[ \t]*+"
    r"((?:[\x21-\x7e\x80-\xff]++|[ \t]++(?=[\x21-\x7e\x80-\xff]))*+)[ \t]*+\r?\n"
)
_FIELD_LINE = re.compile(_FIELD_LINE_SOURCE.encode())
# The same grammar over a whole section decoded as latin-1 (byte N is U+00NN, so the
# classes mean the same bytes), each match anchored at a line's start: one pass
# gives every (name, value) as str.
_FIELD_LINES = re.compile("^" + _FIELD_LINE_SOURCE, re.MULTILINE)

# Content-Length = 1*DIGIT                                             (RFC 9110 section 8.6)
# Bounded to 18 digits so the value always fits comfortably in 63 bits.
_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")

# chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF       (RFC 9112 section 7.1)
# chunk-size     = 1*HEXDIG
# last-chunk     = 1*("0") [ chunk-ext ] CRLF
# chunk-ext      = *( BWS ";" BWS chunk-ext-name                     (RFC 9112 section 7.1.1)
#                     [ BWS "=" BWS chunk-ext-val ] )
# chunk-ext-name = token
# chunk-ext-val  = token / quoted-string
# quoted-string  = DQUOTE *( qdtext / quoted-pair ) DQUOTE             (RFC 9110 section 5.6.4)
# qdtext         = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
# quoted-pair    = "\" ( HTAB / SP / VCHAR / obs-text )
# BWS            = OWS = *( SP / HTAB )                                 (RFC 9110 section 5.6.3)
# The size is bounded to 16 hex digits (64 bits); the line ends in CRLF or a bare LF.
# Every quantifier is possessive (no backtracking), which keeps the match linear in the
# line's length on any input: each element starts with a byte the one before it cannot
# hold (a token ends where SP, HTAB, "=", ";" or the line end begins), so the longest
# match of each is the only one a valid line can have.
_TCHARS = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]++"
_QUOTED_STRING = rb'"(?:[\t !\x23-\x5b\x5d-\x7e\x80-\xff]++|\\[\t\x20-\x7e\x80-\xff])*+"'
# chunk-ext element by element: *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
_CHUNK_EXT = rb"(?:[ \t]*+;[ \t]*+%s(?:[ \t]*+=[ \t]*+(?:%s|%s))?+)*+" % (
    _TCHARS,
    _TCHARS,
    _QUOTED_STRING,
)
_CHUNK_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]{1,16}+)" + _CHUNK_EXT + rb"\r?+\n")

_OWS = " \t"

# TE = #t-codings ; t-codings = "trailers" / ( transfer-coding [ weight ] )  (RFC 9110 10.1.4)
# transfer-coding = token *( OWS ";" OWS transfer-parameter )              (RFC 9112 section 7)
# weight = OWS ";" OWS "q=" qvalue                                    (RFC 9110 section 12.4.2)
# qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
_QVALUE = re.compile(r"0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?")
# The TE field lines of a request head serialized by rawhttp: ``name: value`` then CRLF.
_TE_LINE = re.compile(rb"\nTE:([^\r\n]*)", re.IGNORECASE)
_DECODABLE_TRANSFER = frozenset(("gzip", "deflate"))
"""The transfer codings other than chunked a response may use when the request's TE
field accepted them (RFC 9112 section 7.2; "x-gzip" is taken as "gzip")."""
MAX_TRANSFER_CODINGS = 5
"""More stacked transfer codings than this (chunked aside) are refused."""


class BodyKind(Enum):
    NONE = "none"
    LENGTH = "length"
    CHUNKED = "chunked"
    CLOSE = "close"


class Framing(NamedTuple):
    """How the body of a response is delimited, and whether the connection may be reused."""

    kind: BodyKind
    length: int
    keep_alive: bool
    codings: tuple[str, ...] = ()
    """Transfer codings other than chunked, in the order the server applied them
    ("gzip", "deflate"): only ones the request's TE field accepted."""


def parse_status_line(line: bytes) -> tuple[str, int, str]:
    """Parse ``b"HTTP/1.1 200 OK\\r\\n"`` into ``("HTTP/1.1", 200, "OK")``."""
    m = _STATUS_LINE.fullmatch(line)
    if m is None:
        raise ProtocolError(f"malformed status line: {_show(line)}", rule=_status_rule(line))
    status = int(m.group(2))
    if status < 100 or status > 599:
        raise ProtocolError(
            f"invalid status code {status} (must be 100-599): {_show(line)}", rule="status-code"
        )
    reason = m.group(3)
    return f"HTTP/1.{chr(m.group(1)[0])}", status, reason.decode("latin-1") if reason else ""


def _status_rule(line: bytes) -> ProtocolRule:
    """Which rule a line that is not a valid status line breaks (for the error's
    ``rule``): not ``HTTP/`` at all, another HTTP version, the status code, or
    what follows it (the reason phrase or the line ending)."""
    if not line.startswith(b"HTTP/"):
        return "status-line"
    if not _HTTP1.match(line):
        return "http-version"
    if not _HTTP1_STATUS.match(line):
        return "status-code"
    return "reason-phrase"


def field_lines(section: bytes, count: int) -> list[tuple[str, str]] | None:
    """The fields of a whole section of ``count`` field lines (its empty line
    after them), in one regex pass, when every line is a plain field line (the
    grammar :func:`add_field_line` tries first); None when one is not, for the
    caller to parse line by line (obs-fold, or the precise error).

    Each match starts at a line's start and ends at that line's LF (a value holds
    no CR or LF), so ``count`` matches means each line matched whole."""
    fields: list[tuple[str, str]] = _FIELD_LINES.findall(section.decode("latin-1"))
    return fields if len(fields) == count else None


def add_field_line(fields: list[tuple[str, str]], line: bytes) -> None:
    """Parse one header or trailer line (ending in CRLF or LF) and append it to ``fields``.

    Whitespace around the value is trimmed.  A line that starts with SP or
    HTAB is an obsolete line folding (obs-fold): RFC 9112 section 5.2 tells a
    user agent to replace it with SP, so it is joined to the previous value.
    """
    m = _FIELD_LINE.fullmatch(line)
    if m is not None:
        fields.append((m[1].decode("ascii"), m[2].decode("latin-1")))
        return
    if line[-1:] != b"\n":
        raise ProtocolError(
            f"header line not terminated by CRLF or LF: {_show(line)}", rule="header-line"
        )
    # One CR before the LF belongs to the line ending; any other CR is refused below.
    content = line[:-2] if line[-2:-1] == b"\r" else line[:-1]
    if content[:1] in (b" ", b"\t"):
        if not fields:
            raise ProtocolError(
                f"header section starts with whitespace: {_show(line)}", rule="obs-fold"
            )
        more = _value(content)
        name, value = fields[-1]
        if more:
            fields[-1] = (name, f"{value} {more}" if value else more)
        return
    colon = content.find(b":")
    field_name = content[:colon]
    if colon < 1 or not _TOKEN.fullmatch(field_name):
        raise ProtocolError(f"malformed header line: {_show(line)}", rule="header-line")
    fields.append((field_name.decode("ascii"), _value(content[colon + 1 :])))


def _value(raw: bytes) -> str:
    value = raw.strip(b" \t")
    if _BAD_VALUE_BYTE.search(value):
        raise ProtocolError(
            f"header value contains a forbidden character: {_show(raw)}", rule="header-value"
        )
    return value.decode("latin-1")


def parse_content_length(values: list[str]) -> int:
    """The length from every Content-Length value; identical repeats are accepted.

    ``["5"]``, ``["5", "5"]`` and ``["5, 5"]`` give 5.  Differing values,
    empty list elements, signs, spaces inside and over-long numbers are errors.
    """
    if len(values) == 1:
        value = values[0]
        if len(value) <= 18 and value.isascii() and value.isdigit():
            return int(value)  # one plain number (``isascii``: no other script's digits)
    result: int | None = None
    for value in values:
        for item in value.split(","):
            item = item.strip(_OWS)
            if not _CONTENT_LENGTH.fullmatch(item):
                raise ProtocolError(f"invalid Content-Length {value!r}", rule="content-length")
            n = int(item)
            if result is not None and n != result:
                raise ProtocolError(
                    f"conflicting Content-Length values: {values!r}", rule="content-length"
                )
            result = n
    if result is None:
        raise ProtocolError("empty Content-Length", rule="content-length")
    return result


def _tokens(values: list[str]) -> list[str]:
    """A comma-separated list field as lower-case items.

    Empty elements are skipped: RFC 9110 section 5.6.1.2 says a recipient MUST
    parse and ignore them (``"close, "``, ``", chunked"``, an empty value).
    """
    items = []
    for value in values:
        for item in value.split(","):
            item = item.strip(_OWS).lower()
            if item:
                items.append(item)
    return items


def parse_chunk_size(line: bytes) -> int:
    """Parse a chunk-size line (``b"1a;ext=1\\r\\n"``): the size; extensions are
    checked against their grammar, then skipped."""
    m = _CHUNK_SIZE_LINE.fullmatch(line)
    if m is None:
        raise ProtocolError(f"malformed chunk size line: {_show(line)}", rule="chunk-size")
    return int(m.group(1), 16)


def keep_alive(http_version: str, headers: Headers) -> bool:
    """Whether the server lets the connection stay open after this response."""
    values = headers._values("connection")
    tokens = _tokens(values) if values else ()
    if "close" in tokens:
        return False
    if http_version == "HTTP/1.0":
        return "keep-alive" in tokens
    return True


def body_framing(
    method: str, status: int, http_version: str, headers: Headers, sent: bytes = b""
) -> Framing:
    """Decide how the response body is delimited (RFC 9112 section 6.3).

    Responses to HEAD, and 1xx, 204 and 304 responses have no body.  Otherwise
    ``Transfer-Encoding: chunked``, then a valid Content-Length, else the body runs
    until the server closes.  Both Transfer-Encoding and Content-Length, or
    Transfer-Encoding in an HTTP/1.0 response, is ambiguous framing and refused.

    Transfer codings other than chunked (gzip, deflate) are accepted only when the
    request head ``sent`` carries a TE field that accepts each of them (RFC 9110
    section 10.1.4); see :func:`_coded_framing`.
    """
    reuse = keep_alive(http_version, headers)
    if method == "HEAD" or status < 200 or status == 204 or status == 304:
        return Framing(BodyKind.NONE, 0, reuse)
    transfer_encoding = headers._values("transfer-encoding")
    content_length = headers._values("content-length")
    if transfer_encoding:
        if content_length:
            raise ProtocolError(
                "response has both Transfer-Encoding and Content-Length (ambiguous framing)",
                rule="framing",
            )
        if http_version == "HTTP/1.0":
            raise ProtocolError(
                "HTTP/1.0 response with Transfer-Encoding (faulty framing)", rule="framing"
            )
        codings = _tokens(transfer_encoding)
        if codings != ["chunked"]:
            return _coded_framing(codings, sent, reuse)
        return Framing(BodyKind.CHUNKED, 0, reuse)
    if content_length:
        return Framing(BodyKind.LENGTH, parse_content_length(content_length), reuse)
    return Framing(BodyKind.CLOSE, 0, False)


def _coded_framing(codings: list[str], sent: bytes, reuse: bool) -> Framing:
    """The framing of a response whose Transfer-Encoding is not just ``chunked``.

    Each coding before a final ``chunked`` must be one the request's TE field
    accepted (RFC 9112 section 6.1: a server applies no other).  Without a final
    ``chunked`` the body runs until the server closes, as RFC 9112 section 6.3 (4)
    says for a response; gzip and deflate mark their own end, so a body cut off
    there still fails to decode instead of coming out short.  ``chunked`` anywhere
    but last or more than once, a coding the TE field did not accept, and an empty
    list are refused."""
    shown = ", ".join(codings)
    chunked = bool(codings) and codings[-1] == "chunked"
    coded = [_alias(c) for c in (codings[:-1] if chunked else codings)]
    if "chunked" in coded:
        raise ProtocolError(
            f"unsupported Transfer-Encoding {shown!r}: chunked must be the last transfer "
            "coding, applied once",
            rule="transfer-coding",
        )
    accepted = accepted_transfer_codings(request_te(sent)) if sent else frozenset()
    refused = [c for c in coded if c not in accepted]
    if not coded or refused:
        if not coded:
            why = "it names no transfer coding"
        elif not accepted:
            why = "only 'chunked' is accepted (the request's TE field accepted no other coding)"
        else:
            why = f"{refused[0]!r} is not a coding the request's TE field accepted"
        raise ProtocolError(
            f"unsupported Transfer-Encoding {shown!r}: {why}", rule="transfer-coding"
        )
    if len(coded) > MAX_TRANSFER_CODINGS:
        raise ProtocolError(
            f"more than {MAX_TRANSFER_CODINGS} transfer codings: {shown!r}",
            rule="transfer-coding",
        )
    if chunked:
        return Framing(BodyKind.CHUNKED, 0, reuse, tuple(coded))
    return Framing(BodyKind.CLOSE, 0, False, tuple(coded))


def _alias(coding: str) -> str:
    """A transfer coding's name, "x-gzip" taken as "gzip" (RFC 9112 section 7.2)."""
    return "gzip" if coding == "x-gzip" else coding


def request_te(head: bytes) -> list[str]:
    """The values of the TE fields in a request head as rawhttp serialized it."""
    return [m.strip(b" \t").decode("latin-1") for m in _TE_LINE.findall(head)]


def accepted_transfer_codings(values: list[str]) -> frozenset[str]:
    """The transfer codings rawhttp can undo that TE field ``values`` accept:
    "gzip" (also when named "x-gzip") and "deflate", unless given weight ``q=0``.
    A weight that is not a valid qvalue accepts nothing (RFC 9110 section 12.4.2);
    "trailers" and other codings are ignored."""
    accepted = set()
    for item in _tokens(values):
        name, _, parameters = item.partition(";")
        coding = _alias(name.strip(_OWS))
        if coding in _DECODABLE_TRANSFER and _weight(parameters) > 0:
            accepted.add(coding)
    return frozenset(accepted)


def _weight(parameters: str) -> float:
    """The ``q`` weight among a coding's parameters (1 when there is none; 0 when it
    is not a valid qvalue)."""
    for parameter in parameters.split(";"):
        name, equals, value = parameter.partition("=")
        if equals and name.strip(_OWS) == "q":
            value = value.strip(_OWS)
            return float(value) if _QVALUE.fullmatch(value) else 0.0
    return 1.0


def _show(line: bytes, limit: int = 80) -> str:
    """A short, printable rendering of offending bytes for error messages."""
    text = repr(line[:limit])
    return text + ("..." if len(line) > limit else "")
