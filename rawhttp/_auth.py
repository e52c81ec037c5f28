"""Authentication: ``auth=`` as Basic credentials, or a flow that may answer a
challenge with another request (Digest).  The auth step of the Session's stack runs
a flow around the requests of one URL.

(Skeleton: the flow step is being built; Basic works through ``basic_pair``.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._request import Request
    from ._response import Response

__all__ = ["Auth", "BasicAuth", "DigestAuth", "send_with_auth"]


class Auth:
    """Base class of authentication schemes given as ``auth=``."""

    def basic_pair(self) -> tuple[str, str] | None:
        """(user, password) when this scheme is Basic credentials sent up front."""
        return None


class BasicAuth(Auth):
    """Basic authentication (RFC 7617), sent with the first request."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def basic_pair(self) -> tuple[str, str] | None:
        return (self.username, self.password)

    def __repr__(self) -> str:
        return f"BasicAuth({self.username!r}, '***')"


class DigestAuth(Auth):
    """Digest authentication (RFC 7616)."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def __repr__(self) -> str:
        return f"DigestAuth({self.username!r}, '***')"


async def send_with_auth(
    request: Request, send: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Run ``request.flow`` around the requests of one URL."""
    return await send(request)
