"""Response: status, headers and the body, read whole or streamed."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any

from ._body_reader import READ_CHUNK, BodyReader
from ._charset import charset_param, default_codec, set_encoding
from ._decoding import ContentDecoder, make_decoder
from ._exceptions import DecodingError, Error, ResponseNotRead
from ._headers import Headers
from ._http11 import Head
from ._parse import BodyKind, keep_alive
from ._redirect_rules import redirect_location, resolve_location
from ._text import MAX_LINE, LineSplitter, decode_pieces, split_lines
from ._timings import Timings
from ._url import URL, parse_url
from ._whole_body import discard_rest, drain_into, read_whole

__all__ = ["HTTPStatusError", "Response"]


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
        "_addresses",
        "_body",
        "_content",
        "_decode",
        "_encoding",
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
        self._encoding: str | None = None  # set, or chosen by a default_encoding callable
        self.timings = Timings(0.0) if timings is None else timings
        """Where the time went and how many bytes crossed the wire (:class:`Timings`)."""
        self.default_encoding: str | Callable[[bytes], str] | None = None
        """The encoding used when the response names no charset (the Session's
        ``default_encoding``): a name, or a callable given the body returning one
        (see :attr:`encoding`)."""
        self.retries = 0
        """How many times the request was sent again before this response came."""
        self.history: list[Response] = []
        """The redirect responses that led here, oldest first (their bodies are not decoded)."""
        self._addresses: tuple[tuple[str, int] | None, tuple[str, int] | None] = (None, None)
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

    @property
    def remote_address(self) -> tuple[str, int] | None:
        """(IP address, port) of the server, or of the proxy, the response came from
        (IPv6 without brackets); None over a Unix socket."""
        return self._addresses[0]

    @property
    def local_address(self) -> tuple[str, int] | None:
        """(IP address, port) of our end of its connection; None over a Unix socket."""
        return self._addresses[1]

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
            content = await read_whole(body, self._decoder(body, True))
        except DecodingError:
            await discard_rest(body)  # so the connection may still be reused
            self._finish(True)  # reused only if the body was read to its end
            raise
        except BaseException:
            self._finish(False)
            raise
        self._finish(True)
        self._content = content
        return content

    def _decoder(self, body: BodyReader, decode: bool) -> ContentDecoder | None:
        """The decoder for this response's body, if it needs one: its transfer codings
        other than chunked, always (they are no part of the content); its content
        codings too when ``decode`` and the Session's ``decode_content`` say so."""
        transfer = body.codings
        if decode and self._decode:
            codings = self.headers.get_all("content-encoding")
            if codings:
                return make_decoder(codings, transfer)
        return make_decoder([], transfer) if transfer else None

    def iter_bytes(self, chunk_size: int = READ_CHUNK) -> AsyncGenerator[bytes, None]:
        """The decoded body in pieces of at most ``chunk_size`` bytes, in constant memory,
        however well the content compresses."""
        return self._chunks(chunk_size, decode=True)

    def iter_raw(self, chunk_size: int = READ_CHUNK) -> AsyncGenerator[bytes, None]:
        """The body as received (content codings not undone), in pieces of at most
        ``chunk_size`` bytes.  Transfer codings are always removed: chunked framing,
        and gzip or deflate when the request's TE field accepted them."""
        return self._chunks(chunk_size, decode=False)

    def _chunks(self, chunk_size: int, *, decode: bool) -> AsyncGenerator[bytes, None]:
        """The body's stream (:meth:`BodyReader.stream`), or the pieces of the body
        already read.  A bad ``chunk_size`` or a closed response raises here, when the
        stream is asked for."""
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, not {chunk_size!r}")
        if self._content is not None:
            return _pieces(self._content, chunk_size)
        body = self._body
        if body is None or (self._on_done is None and not body.done):
            raise ResponseNotRead("the response is closed; its body can no longer be read")
        return body.stream(chunk_size, self._decoder(body, decode), self._finish)

    def iter_text(self, chunk_size: int = READ_CHUNK) -> AsyncGenerator[str, None]:
        """The decoded body as text, in pieces decoded from at most ``chunk_size``
        bytes each, in constant memory (empty pieces are left out).

        The text is decoded with :attr:`encoding` as it is when the first piece
        arrives (a ``default_encoding`` callable is then given that first piece),
        undecodable bytes replaced by U+FFFD: all pieces together are the body
        decoded whole with that encoding, however the pieces split its characters
        (or a BOM).  Works on a body already read too."""
        return decode_pieces(self._chunks(chunk_size, decode=True), self._pick_encoding)

    def iter_lines(
        self, chunk_size: int = READ_CHUNK, *, max_line: int | None = MAX_LINE
    ) -> AsyncGenerator[str, None]:
        """The lines of :meth:`iter_text`, without their line endings: ``\\n``,
        ``\\r\\n`` and a lone ``\\r`` each end a line (no other character does), so
        NDJSON and Server-Sent Events read line by line.  Each line comes as soon as
        its line ending arrived; text after the last one is a last line.

        Memory stays bounded: a line longer than ``max_line`` characters (1 MiB by
        default; None for no limit) raises BodyTooLarge (its ``limit`` is
        ``max_line``), and the connection is closed."""
        splitter = LineSplitter(max_line)  # a bad max_line raises ValueError here
        return split_lines(self.iter_text(chunk_size), splitter)

    async def drain(self, *, limit: int | None = None) -> None:
        """Read the rest of the body without undoing its content codings, so its
        connection can be reused; the bytes read become :attr:`content` (as for the
        redirects in ``history``).  Nothing is read when the connection could not be
        reused anyway (``Connection: close``, or a body delimited by the server
        closing), nor past ``limit`` bytes: the connection is then closed instead.
        Transfer codings other than chunked are undone, the bytes that gives bounded
        by ``limit`` too (by ``Limits.max_body_size`` without one)."""
        body = self._body
        kept: list[bytes] = []
        try:
            if body is not None and self._on_done is not None and self._keeps_connection():
                await drain_into(body, kept, limit)
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
        """Body bytes read so far as they came (chunked framing removed; other transfer
        codings and content codings not undone): what curl calls the download size."""
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
        """The codec :attr:`text` and :meth:`iter_text` decode with, the first that
        applies of:

        - the encoding set here (``r.encoding = "latin-1"``; None undoes it): a name
          of a text encoding, else LookupError (TypeError for a non-str);
        - the Content-Type's ``charset``, if it names a text encoding Python has;
        - :attr:`default_encoding` (the Session's): a name (UTF-8 if it names no text
          encoding), or a callable given the body (the first piece of it when
          :meth:`iter_text` starts before the body was read) and returning a name.
          It is called once; its answer is kept.  If it raises or returns no name
          of a text encoding, UTF-8 is used.  On a streamed body not read yet it
          cannot be asked: UTF-8 until then;
        - UTF-8.
        """
        return self._pick_encoding(None)

    @encoding.setter
    def encoding(self, value: str | None) -> None:
        self._encoding = None if value is None else set_encoding(value)

    def _pick_encoding(self, sample: bytes | None) -> str:
        """:attr:`encoding`; ``sample`` is what a default_encoding callable gets when
        the body is not read (the first piece :meth:`iter_text` decodes)."""
        chosen = self._encoding or charset_param(self.headers.get("content-type", ""))
        if chosen is None:
            default = self.default_encoding
            if default is None:
                return "utf-8"
            body = sample if self._content is None else self._content
            chosen, keep = default_codec(default, body)
            if keep:  # a default_encoding callable's answer: it is asked once
                self._encoding = chosen
        return chosen

    @property
    def text(self) -> str:
        """The body decoded with :attr:`encoding`; undecodable bytes become U+FFFD."""
        content = self.content
        try:
            return content.decode(self._pick_encoding(None), errors="replace")
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


async def _pieces(content: bytes, size: int) -> AsyncGenerator[bytes, None]:
    """A body already read, in pieces of at most ``size`` bytes."""
    for i in range(0, len(content), size):
        yield content[i : i + size]
