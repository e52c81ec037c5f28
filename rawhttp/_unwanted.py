"""Dropping the body of a response nobody wants (a redirect's, a retried status's, an
answered challenge's) so that its connection can carry the next request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from ._exceptions import Error

if TYPE_CHECKING:
    from ._response import Response

__all__ = ["DRAIN_LIMIT", "drop_unwanted"]

DRAIN_LIMIT: Final = 1024 * 1024
"""An unwanted body longer than this closes its connection instead of being read."""


async def drop_unwanted(response: Response) -> None:
    """Read and drop, undecoded, the body of a response nobody wants (a redirect, a
    retried status, an answered challenge) so its connection can be reused.  A body
    that cannot leave the connection reusable (the server closes it, or frames the
    body by closing) is not read at all, and one longer than DRAIN_LIMIT closes the
    connection instead.  A timeout is raised as it is (the request's own read or
    total timeout); any other failure of an unwanted body only closes the connection
    (``Response.drain`` releases or closes it in every case)."""
    try:
        await response.drain(limit=DRAIN_LIMIT)
    except TimeoutError:  # rawhttp's timeouts are builtin TimeoutErrors too
        raise
    except Error:
        pass
