"""Response: status, headers and the body, read whole or streamed."""

from __future__ import annotations

import codecs
from collections.abc import AsyncGenerator, Callable
from typing import Any, NamedTuple

from ._decoding import ContentDecoder, make_decoder
from ._exceptions import DecodingError, HTTPStatusError, ResponseNotRead
from ._headers import Headers
from ._http11 import READ_CHUNK, BodyReader
from ._timings import Timings

DECODED_PIECE = 1024 * 1024
"""Piece size used while decoding a body read whole."""

__all__ = ["InformationalResponse", "Response"]


class InformationalResponse(NamedTuple):
    """A 1xx interim response (100 Continue, 103 Early Hints, ...) given to
    ``on_informational`` before the final response arrives."""

    status: int
    reason: str
    http_version: str
    headers: Headers


class Response:
    """An HTTP response.  From ``Session.request()`` its body is already read;
    from ``Session.stream()`` it is read with ``iter_bytes()`` or ``read()``."""

    __slots__ = (
        "_body",
        "_content",
        "_decode",
        "_on_done",
        "headers",
        "history",
        "http_version",
        "method",
        "reason",
        "status",
        "timings",
        "url",
    )

    def __init__(
        self,
        *,
        status: int,
        reason: str,
        http_version: str,
        headers: Headers,
        url: str,
        method: str,
        body: BodyReader | None = None,
        content: bytes | None = None,
        on_done: Callable[[bool], None] | None = None,
        decode: bool = True,
        timings: Timings | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.http_version = http_version
        self.headers = headers
        self.url = url
        """The URL requested, normalized, without userinfo."""
        self.method = method
        self._body = body
        self._content = content
        self._on_done = on_done
        self._decode = decode
        self.timings = Timings(0.0) if timings is None else timings
        """Where the time went and how many bytes crossed the wire (:class:`Timings`)."""
        self.history: list[Response] = []
        """The redirect responses that led here, oldest first (their bodies are not decoded)."""

    # -- body ---------------------------------------------------------------

    @property
    def content(self) -> bytes:
        """The whole body.  On a streamed response, only after ``await r.read()``."""
        if self._content is None:
            raise ResponseNotRead(
                "the body of a streamed response is not read: await r.read() first"
            )
        return self._content

    @property
    def trailers(self) -> Headers:
        """Trailer fields of a chunked body (empty if none came, or before the body ends)."""
        return self._body.trailers if self._body is not None else Headers()

    @property
    def is_closed(self) -> bool:
        return self._on_done is None

    async def read(self) -> bytes:
        """Read the rest of the body and return the whole of it."""
        if self._content is not None:
            return self._content
        body = self._body
        if body is None or (self._on_done is None and not body.done):
            raise ResponseNotRead("the response was closed before its body was read")
        if body.received:
            raise ResponseNotRead("the body was already consumed by iter_bytes()")
        try:
            raw = await body.read_all()
        except BaseException:
            self._finish(False)
            raise
        self._finish(True)
        decoder = self._decoder()
        if decoder is None:
            self._content = raw
        else:
            content = b"".join(decoder.feed(raw, DECODED_PIECE))
            decoder.finish()
            self._content = content
        return self._content

    def _decoder(self) -> ContentDecoder | None:
        """The Content-Encoding decoder for this response, if decoding is on and needed."""
        if not self._decode:
            return None
        codings = self.headers.get_all("content-encoding")
        return make_decoder(codings) if codings else None

    def iter_bytes(self, chunk_size: int = READ_CHUNK) -> AsyncGenerator[bytes, None]:
        """The decoded body in pieces of at most ``chunk_size`` bytes, in constant memory,
        however well the content compresses."""
        return self._chunks(chunk_size, decode=True)

    def iter_raw(self, chunk_size: int = READ_CHUNK) -> AsyncGenerator[bytes, None]:
        """The body as received (content codings not undone), in pieces of at most
        ``chunk_size`` bytes.  Chunked framing is always removed."""
        return self._chunks(chunk_size, decode=False)

    async def _chunks(self, chunk_size: int, *, decode: bool) -> AsyncGenerator[bytes, None]:
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, not {chunk_size!r}")
        if self._content is not None:
            for i in range(0, len(self._content), chunk_size):
                yield self._content[i : i + chunk_size]
            return
        body = self._body
        if body is None or (self._on_done is None and not body.done):
            raise ResponseNotRead("the response is closed; its body can no longer be read")
        decoder = self._decoder() if decode else None
        ok = False
        try:
            while True:
                chunk = await body.read_chunk(chunk_size)
                if not chunk:
                    break
                if decoder is None:
                    yield chunk
                else:
                    for piece in decoder.feed(chunk, chunk_size):
                        yield piece
            if decoder is not None:
                decoder.finish()
            ok = True
        finally:
            self._finish(ok)

    async def aclose(self) -> None:
        """Release the connection; if the body was not read to its end, close it."""
        self._finish(self._body is None or self._body.done)

    def _finish(self, complete: bool) -> None:
        on_done = self._on_done
        if on_done is not None:
            self._on_done = None
            on_done(complete and (self._body is None or self._body.done))

    # -- conveniences -------------------------------------------------------

    @property
    def encoding(self) -> str:
        """The charset from Content-Type if Python knows it, else utf-8."""
        content_type = self.headers.get("content-type", "")
        for param in content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                name = value.strip().strip('"')
                try:
                    return codecs.lookup(name).name
                except LookupError:
                    break
        return "utf-8"

    @property
    def text(self) -> str:
        """The body decoded with :attr:`encoding`; undecodable bytes become U+FFFD."""
        return self.content.decode(self.encoding, errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; invalid JSON raises DecodingError."""
        import json  # imported on first use

        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise DecodingError(f"response body is not valid JSON: {exc}") from exc

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and "location" in self.headers

    def raise_for_status(self) -> Response:
        """Raise HTTPStatusError for a 4xx or 5xx status; return the response otherwise."""
        if self.status >= 400:
            kind = "client error" if self.status < 500 else "server error"
            raise HTTPStatusError(
                f"{self.status} {self.reason} ({kind}) for {self.method} {self.url}", response=self
            )
        return self

    def __repr__(self) -> str:
        return f"<Response [{self.status} {self.reason}]>".replace(" ]", "]")
