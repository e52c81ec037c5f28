"""Retries: the step of the Session's stack that sends a request again after a
transient failure or a status that says "try later".

(Skeleton: the step is being built.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from ._request import Request
    from ._response import Response

__all__ = ["IDEMPOTENT_METHODS", "Retry", "coerce_retries", "send_with_retries"]

IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


class Retry:
    """How a request is retried."""

    def __init__(
        self,
        total: int = 3,
        backoff_factor: float = 0.5,
        max_backoff: float = 30.0,
        statuses: Iterable[int] = frozenset({429, 502, 503, 504}),
        methods: Iterable[str] = IDEMPOTENT_METHODS,
        respect_retry_after: bool = True,
    ) -> None:
        self.total = total
        self.backoff_factor = backoff_factor
        self.max_backoff = max_backoff
        self.statuses = frozenset(statuses)
        self.methods = frozenset(m.upper() for m in methods)
        self.respect_retry_after = respect_retry_after


def coerce_retries(value: int | Retry | None) -> Retry | None:
    """``retries=`` as a Retry: an int is that many retries with the defaults."""
    if value is None or isinstance(value, Retry):
        return value
    return Retry(total=value)


async def send_with_retries(
    request: Request, send: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Send ``request`` with ``send``, retried as ``request.retry`` says."""
    return await send(request)
