"""The blocking API for scripts: a thin wrapper that runs the async Session on a
private event loop (``asyncio.Runner``).  There is no second copy of the HTTP code."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Iterator
from types import TracebackType
from typing import Any

from ._exceptions import Error
from ._response import Response
from ._session import Session

__all__ = ["SyncSession", "delete", "get", "head", "options", "patch", "post", "put", "request"]


class EventLoopRunning(Error, RuntimeError):
    """A blocking call was made from inside a running event loop."""


def _check_no_running_loop() -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise EventLoopRunning(
        "the blocking rawhttp API cannot run inside a running event loop; "
        "use `async with rawhttp.Session() as s: await s.get(...)` instead"
    )


class SyncSession:
    """A blocking Session for scripts, keeping its connection pool between calls.

    Takes the same options as :class:`Session`.  Use it as a context manager::

        with rawhttp.SyncSession() as s:
            r = s.get("http://127.0.0.1:8080/")
    """

    def __init__(self, **options: Any) -> None:
        _check_no_running_loop()
        self._runner = asyncio.Runner()
        self._session = Session(**options)

    def __enter__(self) -> SyncSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every connection and the private event loop."""
        if self._runner is None:
            return
        try:
            self._runner.run(self._session.aclose())
        finally:
            self._runner.close()
            self._runner = None  # type: ignore[assignment]

    def _run(self, coro: Any) -> Any:
        _check_no_running_loop()
        if self._runner is None:
            coro.close()
            raise Error("the session is closed")
        return self._runner.run(coro)

    def request(self, method: str, url: str, **kwargs: Any) -> Response:
        """Send a request; the response's body is read."""
        response: Response = self._run(self._session.request(method, url, **kwargs))
        return response

    def get(self, url: str, **kwargs: Any) -> Response:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Response:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> Response:
        return self.request("OPTIONS", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Response:
        return self.request("DELETE", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Response:
        return self.request("PATCH", url, **kwargs)

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[SyncStream]:
        """``with s.stream("GET", url) as r: for chunk in r.iter_bytes(): ...``"""
        manager = self._session.stream(method, url, **kwargs)
        response = self._run(manager.__aenter__())
        try:
            yield SyncStream(response, self)
        except BaseException as exc:
            self._run(manager.__aexit__(type(exc), exc, exc.__traceback__))
            raise
        else:
            self._run(manager.__aexit__(None, None, None))


class SyncStream:
    """A streamed response in the blocking API: the Response's attributes, plus
    blocking ``iter_bytes()`` and ``read()``."""

    def __init__(self, response: Response, session: SyncSession) -> None:
        self.response = response
        self._session = session

    def __getattr__(self, name: str) -> Any:
        return getattr(self.response, name)

    def iter_bytes(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The decoded body in pieces of at most ``chunk_size`` bytes."""
        return self._blocking(self.response.iter_bytes(chunk_size))

    def iter_raw(self, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The body as received, in pieces of at most ``chunk_size`` bytes."""
        return self._blocking(self.response.iter_raw(chunk_size))

    def _blocking(self, chunks: AsyncGenerator[bytes, None]) -> Iterator[bytes]:
        try:
            while True:
                try:
                    yield self._session._run(chunks.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            self._session._run(chunks.aclose())

    def read(self) -> bytes:
        content: bytes = self._session._run(self.response.read())
        return content

    def __repr__(self) -> str:
        return repr(self.response)


_SESSION_OPTIONS = (
    "verify",
    "cert",
    "limits",
    "max_redirects",
    "decode_content",
    "proxy",
    "no_proxy",
    "trust_env",
    "local_address",
    "happy_eyeballs_delay",
    "unix_socket",
)
"""Keyword arguments of the one-shot functions that configure their Session."""


def request(method: str, url: str, **kwargs: Any) -> Response:
    """Send one request and return the response; the connection is closed after.

    Keyword arguments of :meth:`Session.request` go to the request; ``timeout``
    and ``verify`` apply to it too, and so do the Session options ``cert``,
    ``limits``, ``max_redirects``, ``decode_content``, ``proxy``, ``no_proxy``,
    ``trust_env``, ``local_address``, ``happy_eyeballs_delay`` and ``unix_socket``.
    """
    options = {k: kwargs.pop(k) for k in _SESSION_OPTIONS if k in kwargs}
    with SyncSession(**options) as session:
        return session.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> Response:
    """Send one GET request and return the response (see :func:`request`)."""
    return request("GET", url, **kwargs)


def head(url: str, **kwargs: Any) -> Response:
    """Send one HEAD request and return the response (see :func:`request`)."""
    return request("HEAD", url, **kwargs)


def options(url: str, **kwargs: Any) -> Response:
    """Send one OPTIONS request and return the response (see :func:`request`)."""
    return request("OPTIONS", url, **kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    """Send one DELETE request and return the response (see :func:`request`)."""
    return request("DELETE", url, **kwargs)


def post(url: str, **kwargs: Any) -> Response:
    """Send one POST request and return the response (see :func:`request`)."""
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> Response:
    """Send one PUT request and return the response (see :func:`request`)."""
    return request("PUT", url, **kwargs)


def patch(url: str, **kwargs: Any) -> Response:
    """Send one PATCH request and return the response (see :func:`request`)."""
    return request("PATCH", url, **kwargs)
