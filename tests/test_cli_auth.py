"""The command's -u with --digest and --anyauth (rawhttp/cli/_auth.py): the Basic
header from the argument's bytes, DigestAuth, and AnyAuth's probe-then-answer,
against loopback servers through rawhttp.Session, compared with curl where
installed."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawConnection, RawServer, head_fields, read_message

import rawhttp
from rawhttp.cli._auth import AnyAuth, basic_field, make_auth, offered_schemes
from rawhttp.cli._exit import CliError

MakeServer = Callable[..., Awaitable[RawServer]]

DIGEST = 'Digest realm="r", nonce="abc123", qop="auth", algorithm=MD5'
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def challenging(*challenges: str) -> Callable[[RawConnection], Awaitable[None]]:
    """401 with ``challenges`` to a request without Authorization, 200 to one with."""

    async def handler(conn: RawConnection) -> None:
        for _ in range(10):
            head, _ = await read_message(conn)
            if not head:
                return
            if "authorization" in dict(head_fields(head)):
                await conn.send(OK)
                continue
            fields = "".join(f"WWW-Authenticate: {c}\r\n" for c in challenges)
            await conn.send(f"HTTP/1.1 401 No\r\n{fields}Content-Length: 0\r\n\r\n".encode())

    return handler


def schemes_sent(server: RawServer) -> list[str]:
    """The scheme of each request's Authorization ("-" for none)."""
    found = []
    for request in server.requests:
        value = dict(head_fields(request)).get("authorization")
        found.append(value.split(" ")[0] if value else "-")
    return found


def test_basic_field_is_the_arguments_bytes() -> None:
    assert basic_field("user:pa:ss") == (
        "Authorization",
        b"Basic " + base64.b64encode(b"user:pa:ss"),
    )
    # no password: curl prompts; the command sends an empty one
    assert basic_field("user") == ("Authorization", b"Basic " + base64.b64encode(b"user:"))
    raw = b"\xff\xfe:p\xe9"  # not UTF-8: sent as given
    assert basic_field(os.fsdecode(raw)) == ("Authorization", b"Basic " + base64.b64encode(raw))
    assert make_auth("u:p", digest=False, anyauth=False) == ([basic_field("u:p")], None)


def test_make_auth_flows() -> None:
    headers, auth = make_auth("u:p", digest=True, anyauth=False)
    assert headers == []
    assert isinstance(auth, rawhttp.DigestAuth)
    assert (auth.username, auth.password) == ("u", "p")
    for digest in (False, True):  # --anyauth wins over --digest
        headers, auth = make_auth("u", digest=digest, anyauth=True)
        assert headers == []
        assert isinstance(auth, AnyAuth)
        assert "u" in repr(auth)
        assert "p" not in repr(auth).replace("'u'", "")
    with pytest.raises(CliError) as caught:
        make_auth(os.fsdecode(b"\xff:x"), digest=True, anyauth=False)
    assert caught.value.code == 2


def test_offered_schemes() -> None:
    assert offered_schemes(['Basic realm="a"']) == {"basic"}
    assert offered_schemes(['Basic realm="a, b", Digest realm="x", nonce="1"']) == {
        "basic",
        "digest",
    }
    assert offered_schemes(["NTLM", 'Negotiate, Digest realm="x"']) == {
        "ntlm",
        "negotiate",
        "digest",
    }
    assert offered_schemes(['Bearer realm="x", error="invalid"']) == {"bearer"}
    assert offered_schemes([]) == set()


async def fetch(url: str, auth: rawhttp.Auth, times: int = 1) -> list[int]:
    async with rawhttp.Session(auth=auth) as session:
        return [(await session.get(url)).status for _ in range(times)]


async def test_anyauth_answers_basic(raw_server: MakeServer) -> None:
    server = await raw_server(challenging('Basic realm="r"'))
    assert await fetch(server.url("/x"), AnyAuth("u:p"), times=2) == [200, 200]
    # the second request to the origin carries Basic at once
    assert schemes_sent(server) == ["-", "Basic", "Basic"]
    sent = dict(head_fields(server.requests[1]))["authorization"]
    assert sent == "Basic " + base64.b64encode(b"u:p").decode()


async def test_anyauth_prefers_digest(raw_server: MakeServer) -> None:
    server = await raw_server(challenging('Basic realm="r"', DIGEST))
    assert await fetch(server.url("/x"), AnyAuth("u:p"), times=2) == [200, 200]
    assert schemes_sent(server) == ["-", "Digest", "Digest"]
    assert 'username="u"' in dict(head_fields(server.requests[1]))["authorization"]


async def test_anyauth_without_a_known_scheme(raw_server: MakeServer) -> None:
    server = await raw_server(challenging("NTLM"))
    assert await fetch(server.url("/"), AnyAuth("u:p")) == [401]
    assert schemes_sent(server) == ["-"]


async def test_anyauth_on_a_public_page(raw_server: MakeServer) -> None:
    async def open_page(conn: RawConnection) -> None:
        while (await read_message(conn))[0]:
            await conn.send(OK)

    server = await raw_server(open_page)
    assert await fetch(server.url("/"), AnyAuth("u:p"), times=2) == [200, 200]
    assert schemes_sent(server) == ["-", "-"]  # no credentials where none are asked


async def curl_schemes(server: RawServer, *args: str) -> list[str]:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed: its choice of scheme cannot be compared")
    before = len(server.requests)
    proc = await asyncio.create_subprocess_exec(
        curl, "-s", "-o", "/dev/null", *args, server.url("/x"), stdout=asyncio.subprocess.DEVNULL
    )
    assert await asyncio.wait_for(proc.wait(), 20) == 0
    schemes = schemes_sent(server)[before:]
    del server.requests[before:]
    return schemes


@pytest.mark.parametrize(
    ("challenges", "expected"),
    [
        (('Basic realm="r"',), ["-", "Basic"]),
        (('Basic realm="r"', DIGEST), ["-", "Digest"]),
    ],
)
async def test_anyauth_matches_curl(
    raw_server: MakeServer, challenges: tuple[str, ...], expected: list[str]
) -> None:
    server = await raw_server(challenging(*challenges))
    await fetch(server.url("/x"), AnyAuth("u:p"))
    assert schemes_sent(server) == expected
    del server.requests[:]
    assert await curl_schemes(server, "--anyauth", "-u", "u:p") == expected
    # -u alone: Basic at once; --digest: probe, then Digest (the DIGEST server)
    assert await curl_schemes(server, "-u", "u:p") == ["Basic"]
