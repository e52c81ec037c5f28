"""The responses of a redirect chain that an error ended, for -w: the redirects
followed before the error (``error.history``) and the response the error came with
(``error.response``: the redirect not followed after too many, a 3xx whose Location
is invalid, one whose body could not be read), if any.

A chain that ends well needs nothing from here: ``r.history`` and ``r`` say it all.
"""

from __future__ import annotations

import rawhttp

__all__ = ["chain_after"]


def chain_after(
    error: BaseException,
) -> tuple[list[rawhttp.Response], rawhttp.Response | None]:
    """The chain an error raised by ``Session.stream()`` ended: (the redirects
    followed, the last response when its request was answered)."""
    if not isinstance(error, rawhttp.Error):
        return [], None
    return list(error.history), error.response
