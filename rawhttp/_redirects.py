"""Following redirects: the step of the Session's stack that sends a request and,
while the answer is a redirect to follow, drops its body and sends the request the
redirect asks for.  What is followed, where to and with what is decided by the rules
in :mod:`rawhttp._redirect_rules`; ``max_redirects`` and the :class:`RedirectPolicy`
options (curl's ``--post301``, ``-X`` and ``--referer ";auto"``, which the ``rawhttp``
command uses) are applied here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ._exceptions import Error, InvalidRequest, TooManyRedirects
from ._redirect_rules import (
    CONTENT_HEADERS,
    CREDENTIAL_HEADERS,
    DEFAULT_POLICY,
    Hop,
    RedirectPolicy,
    next_hop,
    referer,
)
from ._request import Request
from ._response import Response
from ._serialize import Field, encode_field
from ._unwanted import drop_unwanted

__all__ = ["send_following_redirects"]


SendOne = Callable[[Request], Awaitable[Response]]


async def send_following_redirects(
    request: Request,
    send: SendOne,
    *,
    max_redirects: int | None,
    policy: RedirectPolicy = DEFAULT_POLICY,
) -> Response:
    """Send ``request`` with ``send`` and, when the request follows redirects, each
    request a redirect asks for; the last response, its body unread, with the
    redirects before it in ``history`` (their bodies read and dropped)."""
    history: list[Response] = []
    response: Response | None = None
    try:
        while True:
            response = None
            response = await send(request)
            if not request.follow:
                break
            method = request.method
            if policy.method is not None and request.body is not None:
                method = "POST"  # curl: with -X, a request with a body follows POST's rules
            try:
                hop = next_hop(
                    request.url,
                    method,
                    response.status,
                    response.headers.get("location"),
                    keep_post=policy.keep_post,
                )
            except BaseException:  # an invalid Location: the 3xx is not returned
                await response.aclose()
                raise
            if hop is None:
                break
            await drop_unwanted(response)
            if max_redirects is not None and len(history) >= max_redirects:
                raise TooManyRedirects(
                    f"more than {max_redirects} redirects (last to {str(hop.url)!r})"
                )
            history.append(response)
            status, response = response.status, None
            request = _next_request(request, hop, status, policy)
    except Error as exc:  # the chain so far goes with the error (the command's -w needs it)
        if history or response is not None:
            exc.history, exc.response = tuple(history), response
        raise
    assert response is not None  # the loop ends only with a response to return
    response.history = history
    return response


def _next_request(request: Request, hop: Hop, status: int, policy: RedirectPolicy) -> Request:
    """The request a redirect asks for: ``request`` changed as ``hop`` says."""
    own, defaults = request.own, request.defaults
    body = request.body
    if hop.drop_body:
        body = None
        own = [f for f in own if f.key not in CONTENT_HEADERS]
    elif body is not None and not body.replayable:
        raise InvalidRequest(
            f"cannot follow the {status} redirect to {str(hop.url)!r}: "
            "the request body was a stream and cannot be sent again"
        )
    credentials = request.credentials
    if not hop.same_origin:  # a caller's Host named the old server
        own = [f for f in own if f.key != "host"]
        defaults = [f for f in defaults if f.key != "host"]
    if not hop.keep_credentials:
        own = [f for f in own if f.key not in CREDENTIAL_HEADERS]
        defaults = [f for f in defaults if f.key not in CREDENTIAL_HEADERS]
        credentials = None
    if policy.referer:
        own, defaults = _with_referer(own, defaults, referer(request.url, hop.url))
    return Request(
        policy.method or hop.method,
        hop.url,
        defaults,
        own,
        credentials,
        body,
        request.clock,
        request.follow,
        request.trace,
        request.on_head,
        request.expect,
        request.flow if hop.keep_credentials else None,
        request.retry,
        request.cookies if hop.keep_credentials else None,
    )


def _with_referer(
    own: list[Field], defaults: list[Field], value: str | None
) -> tuple[list[Field], list[Field]]:
    """The fields with ``Referer: value`` in place of any Referer (where the request's
    own was, else last), or with none when ``value`` is None."""
    defaults = [f for f in defaults if f.key != "referer"]
    kept = [f for f in own if f.key != "referer"]
    if value is None:
        return kept, defaults
    at = next((i for i, f in enumerate(own) if f.key == "referer"), len(kept))
    kept.insert(at, encode_field("Referer", value))
    return kept, defaults
