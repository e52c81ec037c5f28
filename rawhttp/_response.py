"""Response: status, headers and the body, read whole or streamed."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, NamedTuple

from ._body_reader import READ_CHUNK, WHOLE_READ, BodyReader
from ._charset import text_codec
from ._decoding import FEED_SLICE, ContentDecoder, make_decoder
from ._exceptions import (
    BodyTooLarge,
    DecodingError,
    Error,
    ReadTimeout,
    ResponseNotRead,
)
from ._headers import Headers
from ._http11 import Head
from ._parse import BodyKind, keep_alive
from ._redirect_rules import redirect_location, resolve_location
from ._timings import Timings
from ._url import URL, parse_url

DECODED_PIECE = 1024 * 1024
"""Largest decoded piece while a body is read whole (the limit is checked after each)."""
DISCARD_LIMIT = 1024 * 1024
"""After a decoding error, at most this much more of the body is read (and dropped)
to keep the connection; a longer body closes it."""

__all__ = ["HTTPStatusError", "InformationalResponse", "Response"]


class InformationalResponse(NamedTuple):
    """A 1xx interim response (100 Continue, 103 Early Hints, ...) given to
    ``on_informational`` before the final response arrives."""

    status: int
    reason: str
    http_version: str
    headers: Headers


class HTTPStatusError(Error):
    """Raised by :meth:`Response.raise_for_status` for 4xx and 5xx responses; the
    response is its ``response``."""

    def __init__(self, message: str, *, response: Response) -> None:
        super().__init__(message)
        self.response = response


class Response:
    """An HTTP response.  From ``Session.request()`` its body is already read;
    from ``Session.stream()`` it is read with ``iter_bytes()`` or ``read()``."""

    __slots__ = (
        "_body",
        "_content",
        "_decode",
        "_on_done",
        "_url",
        "default_encoding",
        "headers",
        "history",
        "http_version",
        "method",
        "reason",
        "retries",
        "status",
        "timings",
    )

    def __init__(
        self,
        *,
        status: int,
        reason: str,
        http_version: str,
        headers: Headers,
        url: str | URL,
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
        self._url = url  # a URL is turned into text only when asked for (most never are)
        self.method = method
        self._body = body
        self._content = content
        self._on_done = on_done
        self._decode = decode
        self.timings = Timings(0.0) if timings is None else timings
        """Where the time went and how many bytes crossed the wire (:class:`Timings`)."""
        self.default_encoding: str | Callable[[bytes], str] | None = None
        """The encoding used when the response names no charset (the Session's
        ``default_encoding``): a name, or a callable given the body returning one."""
        self.retries = 0
        """How many times the request was sent again before this response came."""
        self.history: list[Response] = []
        """The redirect responses that led here, oldest first (their bodies are not decoded)."""
        if body is not None and body.done and content is None:  # no body at all: done now
            self._content = b""
            self._finish(True)

    @classmethod
    def from_head(
        cls,
        head: Head,
        body: BodyReader,
        url: str | URL,
        method: str,
        on_done: Callable[[bool], None],
        decode: bool,
        timings: Timings | None = None,
    ) -> Response:
        """The response a parsed head starts, its body read from ``body``."""
        return cls(
            status=head.status,
            url=url,
            reason=head.reason,
            method=method,
            http_version=head.http_version,
            body=body,
            headers=head.headers,
            on_done=on_done,
            decode=decode,
            timings=timings,
        )

    @property
    def url(self) -> str:
        """The URL requested, normalized, without userinfo."""
        url = self._url
        if type(url) is not str:
            url = self._url = str(url)
        return url

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
        """Read the rest of the body and return the whole of it.

        The body may hold at most ``Limits.max_body_size`` bytes, as received and as
        decoded: a larger one raises BodyTooLarge and closes the connection.  Decoding
        runs piece by piece under the total timeout (ReadTimeout when it expires)."""
        if self._content is not None:
            return self._content
        body = self._body
        if body is None or (self._on_done is None and not body.done):
            raise ResponseNotRead("the response was closed before its body was read")
        if body.received:
            raise ResponseNotRead("the body was already consumed by iter_bytes()")
        try:
            content = await self._read_whole(body)
        except DecodingError:
            await self._discard_rest(body)  # so the connection may still be reused
            raise
        except BaseException:
            self._finish(False)
            raise
        self._finish(True)
        self._content = content
        return content

    async def _read_whole(self, body: BodyReader) -> bytes:
        """The decoded body, fed to the decoder piece by piece as it arrives and
        refused as soon as the bytes received or held pass the limit."""
        limit = body.limits.max_body_size
        if limit is not None and body.kind is BodyKind.LENGTH and body.remaining > limit:
            raise _too_large(limit, body.remaining, "declared by Content-Length")
        decoder = self._decoder()
        parts: list[bytes] = []
        held = 0
        while True:
            raw = await body.read_chunk(WHOLE_READ)
            if not raw:
                break
            if limit is not None and body.received > limit:
                raise _too_large(limit, body.received, "received so far")
            if decoder is None:
                parts.append(raw)
                continue
            # The deadline is checked after each slice too: a 64 KiB slice of empty zstd
            # frames, the slowest input per byte found, takes about 20 ms to decode.
            for start in range(0, len(raw), FEED_SLICE):
                for piece in decoder.feed(raw[start : start + FEED_SLICE], DECODED_PIECE):
                    held += len(piece)
                    if limit is not None and held > limit:
                        raise _too_large(limit, held, "decoded so far")
                    parts.append(piece)
                    _check_deadline(body)
                _check_deadline(body)
        if decoder is not None:
            decoder.finish()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    async def _discard_rest(self, body: BodyReader) -> None:
        """After a decoding error: read and drop what is left of a small body so the
        connection can be reused; a larger one (or any error) closes it."""
        left = DISCARD_LIMIT
        try:
            while left > 0 and not body.done:
                left -= len(await body.read_chunk())
        except Error:  # the decoding error is what the caller hears of
            pass
        finally:
            self._finish(True)  # reused only if the body was read to its end

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

    async def drain(self, *, limit: int | None = None) -> None:
        """Read the rest of the body without decoding it, so its connection can be
        reused; the bytes read become :attr:`content` (as for the redirects in
        ``history``).  Nothing is read when the connection could not be reused anyway
        (``Connection: close``, or a body delimited by the server closing), nor past
        ``limit`` bytes: the connection is then closed instead."""
        body = self._body
        kept: list[bytes] = []
        try:
            if body is not None and self._on_done is not None and self._keeps_connection():
                total = 0
                while limit is None or total <= limit:
                    piece = await body.read_chunk()
                    if not piece:
                        break
                    total += len(piece)
                    kept.append(piece)
        finally:
            await self.aclose()
            if self._content is None:
                self._content = b"".join(kept)

    def _keeps_connection(self) -> bool:
        """Whether reading the body to its end would leave the connection reusable."""
        body = self._body
        if body is None or body.kind is BodyKind.CLOSE:
            return False
        return keep_alive(self.http_version, self.headers)

    @property
    def num_bytes_downloaded(self) -> int:
        """Body bytes read so far as they came (chunked framing removed, content codings
        not undone): what curl calls the download size."""
        return self._body.received if self._body is not None else 0

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
        """The charset from Content-Type if it names a text encoding Python has, else utf-8."""
        content_type = self.headers.get("content-type", "")
        for param in content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return text_codec(value.strip().strip('"')) or "utf-8"
        return "utf-8"

    @property
    def text(self) -> str:
        """The body decoded with :attr:`encoding`; undecodable bytes become U+FFFD."""
        content = self.content
        try:
            return content.decode(self.encoding, errors="replace")
        except (LookupError, ValueError):  # a codec that misbehaves on these bytes
            return content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; invalid (or too deeply nested) JSON raises DecodingError."""
        import json  # imported on first use

        try:
            return json.loads(self.content)
        except (ValueError, RecursionError) as exc:
            what = "nested too deeply" if isinstance(exc, RecursionError) else "not valid JSON"
            raise DecodingError(f"response body is {what}: {exc}") from exc

    @property
    def is_success(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_redirect(self) -> bool:
        """A 301/302/303/307/308 with a non-empty Location: a redirect that can be followed."""
        return redirect_location(self.status, self.headers.get("location")) is not None

    @property
    def next_url(self) -> str | None:
        """Where this response redirects to: its Location resolved against :attr:`url`
        (without credentials), or None when it is no redirect or the Location is not a
        valid http(s) URL."""
        location = redirect_location(self.status, self.headers.get("location"))
        if location is None:
            return None
        try:
            return str(resolve_location(parse_url(self.url), location))
        except Error:
            return None

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


def _too_large(limit: int, size: int, what: str) -> BodyTooLarge:
    return BodyTooLarge(
        f"response body exceeds Limits.max_body_size ({limit} bytes): {size} bytes {what}; "
        "stream it with Session.stream() and r.iter_bytes() instead, or raise the limit",
        limit=limit,
        size=size,
    )


def _check_deadline(body: BodyReader) -> None:
    """Raise ReadTimeout once the request's total deadline has passed."""
    if body.clock.expired():
        raise ReadTimeout("the total timeout expired while decoding the response body")
