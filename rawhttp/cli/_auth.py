"""-u USER[:PASSWORD] with --digest or --anyauth: the Authorization header or the
``auth=`` flow the request is sent with, as curl does.

Basic credentials (neither option) are a header built from the argument's bytes as
given (curl sends argv bytes unchanged).  --digest is :class:`rawhttp.DigestAuth`.
--anyauth sends the request without credentials first, and answers a 401 with the
strongest scheme it offers of those rawhttp speaks: Digest, else Basic (curl would
pick Negotiate or NTLM first; a 401 offering only those is the answer).  Without a
password curl prompts for one; the command runs in scripts without a terminal, so
it sends an empty password.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Generator
from typing import Any, ClassVar, Final

import rawhttp

from ._exit import EXIT_USAGE, CliError

__all__ = ["AnyAuth", "basic_field", "make_auth", "offered_schemes"]

MAX_REMEMBERED: Final = 256
"""Origins an AnyAuth remembers having answered with Basic."""


def make_auth(
    user: str, *, digest: bool, anyauth: bool
) -> tuple[list[tuple[str, bytes]], rawhttp.Auth | None]:
    """The header fields to add, and the ``auth=`` to send with, for ``-u user``.
    --anyauth wins over --digest in either order (curl adds the schemes up: all)."""
    if anyauth:
        return [], AnyAuth(user)
    if digest:
        name, _, password = user.partition(":")
        return [], rawhttp.DigestAuth(*_text(name, password))
    return [basic_field(user)], None


def basic_field(user: str) -> tuple[str, bytes]:
    """``Authorization: Basic`` for ``user`` (``name:password``; no colon: an empty
    password), from the argument's bytes as given."""
    raw = os.fsencode(user)
    if b":" not in raw:
        raw += b":"
    return ("Authorization", b"Basic " + base64.b64encode(raw))


def _text(name: str, password: str) -> tuple[str, str]:
    """The name and password as DigestAuth hashes them (UTF-8): an argument whose
    bytes were not UTF-8 cannot be hashed as given."""
    for part in (name, password):
        if any("\udc80" <= c <= "\udcff" for c in part):
            raise CliError(EXIT_USAGE, "--digest/--anyauth: -u must be UTF-8 text")
    return name, password


def offered_schemes(values: list[str]) -> set[str]:
    """The auth schemes (lower case) that WWW-Authenticate field values offer: the
    first token of each challenge (a value may hold several, comma-separated)."""
    schemes: set[str] = set()
    for value in values:
        # a challenge starts a value or follows a comma, and is a token followed by
        # a space, a comma or the end (not "name=value", an auth-param)
        for match in re.finditer(r"(?:^|,)\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?=\s|,|$)", value):
            schemes.add(match.group(1).lower())
    return schemes


class AnyAuth(rawhttp.Auth):
    """curl's --anyauth: the first request to an origin goes without credentials; a
    401 is answered with Digest when it offers Digest, else Basic when it offers
    Basic.  Once an origin has taken Basic, later requests to it carry it at once,
    as DigestAuth sends Digest at once to an origin it knows."""

    may_resend: ClassVar[bool] = True

    def __init__(self, user: str) -> None:
        name, _, password = user.partition(":")
        self.basic = basic_field(user)
        self.digest = rawhttp.DigestAuth(*_text(name, password))
        self.basic_origins: dict[str, None] = {}

    def __repr__(self) -> str:
        return f"AnyAuth({self.digest.username!r}, '***')"

    def auth_flow(self, request: rawhttp.AuthRequest) -> Generator[Any, rawhttp.Response, None]:
        if request.origin in self.basic_origins:
            yield [self.basic]
            return
        inner: Generator[Any, rawhttp.Response, None] = self.digest.auth_flow(request)
        first = next(inner)
        if first is not None:  # Digest credentials for an origin DigestAuth knows
            yield from _relay(inner, first)
            return
        response = yield None
        if response.status != 401:
            inner.close()
            return
        schemes = offered_schemes(response.headers.get_all("www-authenticate"))
        if "digest" in schemes:
            try:
                fields = inner.send(response)
            except StopIteration:  # a Digest challenge rawhttp cannot answer
                return
            yield from _relay(inner, fields)
            return
        inner.close()
        if "basic" in schemes:
            response = yield [self.basic]
            if response.status != 401:
                if len(self.basic_origins) >= MAX_REMEMBERED:
                    del self.basic_origins[next(iter(self.basic_origins))]
                self.basic_origins[request.origin] = None


def _relay(
    inner: Generator[Any, rawhttp.Response, None], fields: Any
) -> Generator[Any, rawhttp.Response, None]:
    """Send what the DigestAuth flow ``inner`` asks, ``fields`` first, until it ends
    (a flow sends at most 8 requests: the bound)."""
    for _ in range(8):
        response = yield fields
        try:
            fields = inner.send(response)
        except StopIteration:
            return
    inner.close()
