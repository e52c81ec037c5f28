"""The request serializer: validate every field, then produce the request head as bytes.

Nothing is sent until the whole head has been built, so a CR, LF, NUL or any
other byte the grammar forbids raises :class:`InvalidRequest` before a byte
reaches the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, NamedTuple

from ._exceptions import InvalidRequest
from ._headers import Headers, HeadersInput
from ._url import URL

__all__ = ["NO_HOST", "Field", "encode_fields", "request_head"]

# method = token ; field-name = token (RFC 9110 sections 9.1 and 5.1)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# field-value = *field-content: no C0 control other than HTAB, no DEL (so no CR, LF or NUL).
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_LATIN_1 = re.compile(r"[\x00-\xff]*")
_COMMON_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
# Header names whose values are secrets: never shown in a message.  The credential
# headers, and any name that says it carries a key, token, secret, password or session.
_SECRET_NAME = re.compile(
    r"authorization|proxy-authorization|cookie|set-cookie|.*(?:auth|key|token|secret|passw|session).*",
    re.IGNORECASE,
)


def shown_value(name: str, value: object) -> str:
    """A header value as error messages may show it: the repr of the value, or
    ``<hidden>`` for a header that carries credentials."""
    if _SECRET_NAME.fullmatch(name):
        return "<hidden>"
    return repr(value)


class Field(NamedTuple):
    """A validated header field ready to send."""

    name: bytes
    value: bytes
    key: str
    """The lower-case name, for comparisons."""


def encode_field(name: str | bytes, value: str | bytes) -> Field:
    """Validate one header and encode it (str values as latin-1); surrounding whitespace is trimmed."""
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    elif not isinstance(name, str):
        raise InvalidRequest(f"header name must be str or bytes, not {type(name).__name__}")
    if not _TOKEN.fullmatch(name):
        raise InvalidRequest(f"invalid header name {name!r}")
    if isinstance(value, str):
        # checked, not tried: an exception's context would keep the value
        if not value.isascii() and not _LATIN_1.fullmatch(value):
            raise InvalidRequest(
                f"header {name!r} value {shown_value(name, value)} is not latin-1; "
                "pass bytes to choose an encoding"
            )
        raw = value.encode("latin-1")
    elif isinstance(value, bytes):
        raw = value
    elif isinstance(value, int) and not isinstance(value, bool):
        raw = str(value).encode("ascii")
    else:
        raise InvalidRequest(
            f"header {name!r} value must be str or bytes, not {type(value).__name__}"
        )
    raw = raw.strip(b" \t")
    if _BAD_VALUE_BYTE.search(raw):
        raise InvalidRequest(
            f"header {name!r} value contains a forbidden character: {shown_value(name, value)}"
        )
    return Field(name.encode("ascii"), raw, name.lower())


NO_HOST: Final = Field(b"", b"", "host")
"""Stands for ``Host`` among a request's fields when the caller removed it
(``headers={"Host": None}``, curl's ``-H "Host:"``): :func:`request_head` then writes
no Host field at all.  Found by identity, never written itself."""


def encode_fields(headers: HeadersInput | None, removed: list[str] | None = None) -> list[Field]:
    """Validate and encode caller headers, keeping order and case.

    With a ``removed`` list, a value of None is not an error: the lower-case name
    goes into ``removed`` (a request's ``headers={"Accept": None}``)."""
    if not headers:
        return []
    pairs: Iterable[tuple[str | bytes, str | bytes]]
    pairs = headers.items() if isinstance(headers, Headers | Mapping) else headers
    fields = []
    for pair in pairs:
        try:
            if isinstance(pair, str | bytes):
                raise TypeError
            name, value = pair
        except (TypeError, ValueError):
            what = f"a {type(pair).__name__}"  # not the pair itself: it may hold a secret
            if isinstance(pair, tuple | list):
                what += f" of {len(pair)} items"
            raise InvalidRequest(f"headers must be (name, value) pairs, got {what}") from None
        try:
            fields.append(encode_field(name, value))
            continue
        except InvalidRequest:
            if value is not None or removed is None:
                raise
        removed.append(encode_field(name, "").key)  # its name checked as any other
    return fields


def check_method(method: str) -> str:
    if not isinstance(method, str):
        raise InvalidRequest(f"invalid method {method!r}: must be a str")
    if method in _COMMON_METHODS:
        return method
    if not _TOKEN.fullmatch(method):
        raise InvalidRequest(f"invalid method {method!r}")
    return method


def request_head(
    method: str,
    url: URL,
    fields: Sequence[Field],
    *,
    content_length: int | None,
    chunked: bool = False,
    absolute: bool = False,
) -> bytes:
    """The request line and header section, ending with the blank line.

    ``Host`` comes first unless the caller gave one (at most one is allowed), or
    removed it: :data:`NO_HOST` among ``fields`` means no Host field at all (HTTP/1.1
    requires one, RFC 9112 section 3.2: this is for testing servers, as curl's
    ``-H "Host:"``).
    ``Content-Length`` is added for a known body length unless the caller
    gave the same value; a different value, or a caller Transfer-Encoding with
    a body of known length, is refused.  ``content_length=None`` (and not
    ``chunked``) means no body: a caller Content-Length other than 0, or a
    caller Transfer-Encoding, is refused too.  ``absolute`` puts the whole URL
    (without userinfo) in the request line: the absolute form a proxy expects.
    """
    method = check_method(method)
    host = None
    caller_length = None
    caller_te = False
    for f in fields:
        key = f.key
        if key == "host":
            if host is not None:
                raise InvalidRequest("more than one Host header")
            host = f
        elif key == "content-length":
            if caller_length is not None:
                raise InvalidRequest("more than one Content-Length header")
            caller_length = f.value
        elif key == "transfer-encoding":
            caller_te = True
    request_target = str(url) if absolute else url.target
    parts = [f"{method} {request_target} HTTP/1.1\r\n".encode("ascii")]
    if host is None:
        parts.append(b"Host: " + url.host_header.encode("ascii") + b"\r\n")
    elif host is NO_HOST:
        fields = [f for f in fields if f is not NO_HOST]
    for f in fields:
        parts.append(f.name + b": " + f.value + b"\r\n")
    if chunked:
        if caller_length is not None:
            raise InvalidRequest("Content-Length given for a streamed (chunked) body")
        if not caller_te:
            parts.append(b"Transfer-Encoding: chunked\r\n")
    elif content_length is not None:
        if caller_te:
            raise InvalidRequest("Transfer-Encoding given for a body of known length")
        if caller_length is None:
            parts.append(b"Content-Length: %d\r\n" % content_length)
        elif caller_length != b"%d" % content_length:
            raise InvalidRequest(
                f"Content-Length header {caller_length.decode('latin-1')!r} does not match "
                f"the body length {content_length}"
            )
    elif caller_te or (caller_length is not None and caller_length != b"0"):
        # No body will be sent: a framing header announcing one would leave the server waiting.
        raise InvalidRequest(
            "Content-Length or Transfer-Encoding given for a request without a body"
        )
    parts.append(b"\r\n")
    return b"".join(parts)
