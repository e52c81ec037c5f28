"""Authentication: Basic (the pair and BasicAuth), Digest (RFC 7616) against a
server-side verifier written here, custom Auth flows through the public API, and
auth across redirects, cookies and the blocking API; the pure Digest functions with
the RFC's known answers."""

from __future__ import annotations

import asyncio
import hashlib
import io
import secrets
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator
from typing import Any

import pytest
from conftest import RawConnection, RawServer, assert_clean, basic, head_fields, read_message
from pytest_httpserver import HTTPServer
from werkzeug import Request as WRequest
from werkzeug import Response as WResponse
from werkzeug.datastructures import Authorization

import rawhttp
from rawhttp._auth import AuthRequest
from rawhttp._digest import answer, choose, parse_challenges, parse_params

MakeServer = Callable[..., Awaitable[RawServer]]
QUICK = rawhttp.Timeout(5.0)
USER, PASSWORD, REALM = "Mufasa", "Circle of Life", "test@rawhttp"
HASHLIB = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


# -- a server-side Digest verifier (RFC 7616 section 3.4), written for these tests ----


class DigestServer:
    """Issues Digest challenges and checks the answers: every parameter, the
    response hash, nonce counts never reused.  ``stale`` valid answers get a 401
    saying ``stale=true`` (with a new nonce) before one is accepted."""

    def __init__(
        self,
        *,
        algorithm: str | None = "MD5",
        qop: str | None = "auth",
        userhash: bool = False,
        user: str = USER,
        password: str = PASSWORD,
        stale: int = 0,
        extra_challenges: tuple[str, ...] = (),
        next_nonce: bool = False,
    ) -> None:
        self.algorithm = algorithm
        self.qop = qop
        self.userhash = userhash
        self.user = user
        self.password = password
        self.stale = stale
        self.extra = extra_challenges
        self.next_nonce = next_nonce
        self.nonces: dict[str, set[int]] = {}  # nonce -> counts seen
        self.accepted: list[dict[str, str]] = []  # parameters of the accepted answers
        self.refused: list[str] = []  # why answers were refused

    def h(self, data: str | bytes) -> str:
        name = HASHLIB[(self.algorithm or "MD5").upper().removesuffix("-SESS")]
        raw = data.encode("utf-8") if isinstance(data, str) else data
        return hashlib.new(name, raw).hexdigest()

    def new_nonce(self) -> str:
        nonce = secrets.token_urlsafe(12)
        self.nonces[nonce] = set()
        return nonce

    def challenge(self, *, stale: bool = False) -> list[tuple[str, str]]:
        parts = [f'realm="{REALM}"', f'nonce="{self.new_nonce()}"', 'opaque="op\\"aque"']
        if self.algorithm is not None:
            parts.append(f"algorithm={self.algorithm}")
        if self.qop is not None:
            parts.append(f'qop="{self.qop}"')
        if self.userhash:
            parts.append("userhash=true")
        if stale:
            parts.append("stale=true")
        return [("WWW-Authenticate", c) for c in (*self.extra, "Digest " + ", ".join(parts))]

    def verify(self, method: str, target: str, value: str | None, body: bytes) -> str | None:
        """None when the answer is right, else why not."""
        if value is None:
            return "no credentials"
        auth = Authorization.from_header(value)
        if auth is None or auth.type != "digest":
            return "not Digest"
        p = dict(auth.parameters)
        nonce = p.get("nonce", "")
        if nonce not in self.nonces:
            return "unknown nonce"
        if p.get("realm") != REALM or p.get("uri") != target or p.get("opaque") != 'op"aque':
            return "realm, uri or opaque"
        if p.get("algorithm") != self.algorithm:
            return "algorithm"
        if self.userhash:
            if p.get("userhash") != "true" or p.get("username") != self.h(f"{self.user}:{REALM}"):
                return "userhash"
        elif p.get("username") != self.user:
            return "username"
        ha1 = self.h(f"{self.user}:{REALM}:{self.password}")
        if (self.algorithm or "").upper().endswith("-SESS"):
            ha1 = self.h(f"{ha1}:{nonce}:{p.get('cnonce')}")
        qop = p.get("qop")
        a2 = f"{method}:{target}"
        if qop == "auth-int":
            a2 += ":" + self.h(body)
        if self.qop is None:
            if "nc" in p or "cnonce" in p or qop is not None:
                return "qop parameters without qop"
            expected = self.h(f"{ha1}:{nonce}:{self.h(a2)}")
        else:
            if qop not in self.qop.split(",") or len(p.get("cnonce", "")) < 16:
                return "qop or cnonce"
            nc = p.get("nc", "")
            if len(nc) != 8 or int(nc, 16) in self.nonces[nonce]:
                return "nonce count reused"
            self.nonces[nonce].add(int(nc, 16))
            expected = self.h(f"{ha1}:{nonce}:{nc}:{p['cnonce']}:{qop}:{self.h(a2)}")
        if p.get("response") != expected:
            return "wrong response"
        self.accepted.append(p)
        return None

    def respond(
        self, method: str, target: str, value: str | None, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        why = self.verify(method, target, value, body)
        if why is not None:
            self.refused.append(why)
            return 401, self.challenge(), b"denied: " + why.encode()
        if self.stale:
            self.stale -= 1
            return 401, self.challenge(stale=True), b"stale"
        extra = []
        if self.next_nonce:
            extra.append(("Authentication-Info", f'nextnonce="{self.new_nonce()}", rspauth="x"'))
        return 200, extra, b"welcome " + body


def message(status: int, fields: list[tuple[str, str]], body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} X\r\n" + "".join(f"{n}: {v}\r\n" for n, v in fields)
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode("latin-1") + body


class Seen:
    """One request as the server read it."""

    def __init__(self, head: bytes, body: bytes) -> None:
        self.method, self.target, _ = head.split(b"\r\n", 1)[0].decode().split(" ")
        self.fields = dict(head_fields(head))
        self.body = body


class Site:
    """A raw keep-alive handler: each path in ``digest`` protected by its
    DigestServer, ``routes`` answered as given, anything else 404."""

    def __init__(
        self,
        digest: dict[str, DigestServer] | None = None,
        routes: dict[str, bytes] | None = None,
        extra_401: list[tuple[str, str]] | None = None,
        body_401: bytes | None = None,
    ) -> None:
        self.digest = digest or {}
        self.routes = routes or {}
        self.extra_401 = extra_401 or []
        self.body_401 = body_401
        self.seen: list[Seen] = []

    async def __call__(self, conn: RawConnection) -> None:
        for _ in range(50):  # bounded: no test sends more on one connection
            head, body = await read_message(conn)
            if not head:
                return
            seen = Seen(head, body)
            self.seen.append(seen)
            path = seen.target.split("?")[0]
            if path in self.digest:
                status, fields, reply = self.digest[path].respond(
                    seen.method, seen.target, seen.fields.get("authorization"), body
                )
                if status == 401:
                    fields += self.extra_401
                    reply = reply if self.body_401 is None else self.body_401
                await conn.send(message(status, fields, reply))
            else:
                await conn.send(self.routes.get(path, message(404, [], b"none")))

    def authorizations(self) -> list[str | None]:
        return [s.fields.get("authorization") for s in self.seen]


# -- the pure functions: RFC 7616's known answers, challenge parsing, the choice -----

RFC_CHALLENGE = (
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm={alg}, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'
)


@pytest.mark.parametrize(
    ("alg", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_rfc7616_example_response(alg: str, expected: str) -> None:
    # RFC 7616 section 3.9.1: GET /dir/index.html, Mufasa / Circle of Life.
    challenge = choose(parse_challenges([RFC_CHALLENGE.format(alg=alg)]), body_known=True)
    assert challenge is not None
    value = answer(
        challenge,
        "Mufasa",
        "Circle of Life",
        method="GET",
        uri="/dir/index.html",
        nc=1,
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        body=None,
    )
    auth = Authorization.from_header(value)
    assert auth is not None
    assert dict(auth.parameters) == {
        "username": "Mufasa",
        "realm": "http-auth@example.org",
        "uri": "/dir/index.html",
        "algorithm": alg,
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "nc": "00000001",
        "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        "qop": "auth",
        "response": expected,
        "opaque": "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS",
    }
    assert ", qop=auth, " in value
    assert ", nc=00000001, " in value


def test_the_strongest_algorithm_offered_is_answered() -> None:
    # The RFC's example offers SHA-256 and MD5: whatever their order, SHA-256 is chosen.
    both = [RFC_CHALLENGE.format(alg="MD5"), RFC_CHALLENGE.format(alg="SHA-256")]
    for order in (both, both[::-1]):
        chosen = choose(parse_challenges(order), body_known=False)
        assert chosen is not None
        assert chosen.algorithm == "SHA-256"
    one_field = ", ".join(both)
    chosen = choose(parse_challenges([one_field]), body_known=False)
    assert chosen is not None
    assert chosen.algorithm == "SHA-256"
    sess = 'Digest realm="r", nonce="n", qop="auth", algorithm=sha-512-256-SESS'
    chosen = choose(parse_challenges([*both, sess]), body_known=False)
    assert chosen is not None
    assert (chosen.hash_name, chosen.session, chosen.algorithm) == (
        "sha512_256",
        True,
        "sha-512-256-SESS",  # echoed as the server spelled it
    )


def test_challenges_parse_per_rfc9110_syntax() -> None:
    values = [
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
        'Negotiate abc+/==,Bearer ,  Digest realm = "a,b" ,nonce=xyz , QOP="auth"',
    ]
    assert parse_challenges(values) == [
        ("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}, None),
        ("basic", {"realm": "simple"}, None),
        ("negotiate", {}, "abc+/=="),
        ("bearer", {}, None),
        ("digest", {"realm": "a,b", "nonce": "xyz", "qop": "auth"}, None),
    ]


def test_malformed_or_repeated_parameters_drop_their_challenge() -> None:
    values = [
        'Digest realm="a", realm="b", nonce="n"',  # a parameter twice
        'Digest realm="a" nonce="n"',  # no comma between parameters
        'Basic realm="ok", Digest realm="a", nonce="unterminated',
        'realm="no scheme"',
    ]
    assert parse_challenges(values) == [("basic", {"realm": "ok"}, None)]
    assert choose(parse_challenges(values), body_known=True) is None


def test_only_answerable_digest_challenges_are_chosen() -> None:
    def pick(*values: str, body_known: bool = False) -> Any:
        return choose(parse_challenges(values), body_known=body_known)

    assert pick('Digest realm="r", nonce="n", algorithm=SHA-1') is None  # unknown algorithm
    assert pick('Digest realm="r", nonce="n", qop="auth-conf"') is None  # unknown qop
    assert pick('Digest nonce="n"') is None  # no realm
    assert pick('Digest realm="r", nonce="n", algorithm=MD5-sess') is None  # sess needs qop
    assert pick('Digest realm="r", nonce="n", qop="auth-int"') is None  # body unknown
    chosen = pick('Digest realm="r", nonce="n", qop="auth-int"', body_known=True)
    assert chosen is not None
    assert chosen.qop == "auth-int"
    chosen = pick('Digest realm="r", nonce="n", qop="auth-int, auth"', body_known=True)
    assert chosen is not None
    assert chosen.qop == "auth"
    chosen = pick('Digest realm="r", nonce="n", stale=TRUE, userhash="true"')
    assert chosen is not None
    assert chosen.qop is None
    assert chosen.stale
    assert chosen.userhash


def test_user_names_are_quoted_or_sent_as_username_star() -> None:
    challenge = choose(parse_challenges(['Digest realm="r", nonce="n"']), body_known=False)
    assert challenge is not None

    def value_for(user: str) -> str:
        return answer(challenge, user, "pw", method="GET", uri="/", nc=1, cnonce="c", body=None)

    value = value_for('a"b\\c')
    assert value.startswith('Digest username="a\\"b\\\\c", ')
    value = value_for("Jäsøn Doe")
    assert value.startswith("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, ")
    assert "pw" not in value


def test_authentication_info_parameters() -> None:
    assert parse_params('nextnonce="a\\"b", qop=auth, rspauth="x", bad') == {
        "nextnonce": 'a"b',
        "qop": "auth",
        "rspauth": "x",
    }


# -- Digest against the verifier ----------------------------------------------------


@pytest.mark.parametrize(
    "algorithm",
    ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess", None],
)
async def test_digest_answers_each_algorithm(raw_server: MakeServer, algorithm: str | None) -> None:
    verifier = DigestServer(algorithm=algorithm)
    s = Site({"/p": verifier})
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        r = await c.get(server.url("/p?q=1"))
        assert (r.status, r.content) == (200, b"welcome ")
        assert_clean(c)
    assert verifier.refused == ["no credentials"]
    assert s.authorizations()[0] is None
    assert server.connections == 1  # the challenge answered on the same connection
    assert verifier.accepted[0]["uri"] == "/p?q=1"


async def test_streamed_response_after_the_challenge(raw_server: MakeServer) -> None:
    s = Site({"/": DigestServer(algorithm="SHA-256")}, body_401=b"n" * 5000)
    server = await raw_server(s)
    async with (
        rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c,
        c.stream("POST", server.url(), content=b"abc") as r,
    ):
        assert r.status == 200
        assert [chunk async for chunk in r.iter_bytes()] == [b"welcome abc"]
    assert len(s.seen) == 2
    assert server.connections == 1


async def test_nonce_reused_for_the_next_requests_with_counts(raw_server: MakeServer) -> None:
    verifier = DigestServer(algorithm="SHA-256")
    s = Site({"/a": verifier, "/b": verifier})
    server = await raw_server(s)
    auth = rawhttp.DigestAuth(USER, PASSWORD)
    async with rawhttp.Session(timeout=QUICK) as c:
        for path in ("/a", "/b", "/a"):
            r = await c.get(server.url(path), auth=auth)
            assert r.status == 200
    # one round trip for the challenge, then the nonce is sent up front and counted
    assert [seen.target for seen in s.seen] == ["/a", "/a", "/b", "/a"]
    assert [p["nc"] for p in verifier.accepted] == ["00000001", "00000002", "00000003"]
    assert len({p["nonce"] for p in verifier.accepted}) == 1
    assert len({p["cnonce"] for p in verifier.accepted}) == 3


async def test_userhash(raw_server: MakeServer) -> None:
    verifier = DigestServer(algorithm="SHA-256", userhash=True, user="Jäsøn Doe")
    server = await raw_server(Site({"/": verifier}))
    async with rawhttp.Session(timeout=QUICK) as c:
        r = await c.get(server.url(), auth=rawhttp.DigestAuth("Jäsøn Doe", PASSWORD))
    assert r.status == 200
    assert (
        verifier.accepted[0]["username"]
        == hashlib.sha256(f"Jäsøn Doe:{REALM}".encode()).hexdigest()
    )


async def test_non_ascii_user_name_goes_as_username_star(raw_server: MakeServer) -> None:
    verifier = DigestServer(user="Jäsøn Doe")
    s = Site({"/": verifier})
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK) as c:
        r = await c.get(server.url(), auth=rawhttp.DigestAuth("Jäsøn Doe", "pässword"))
        assert r.status == 401  # the server checks the password as UTF-8: wrong one
        verifier.password = "pässword"
        r = await c.get(server.url(), auth=rawhttp.DigestAuth("Jäsøn Doe", "pässword"))
        assert r.status == 200
    assert "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe" in (s.authorizations()[-1] or "")


async def test_stale_nonce_is_answered_once(raw_server: MakeServer) -> None:
    verifier = DigestServer(algorithm="SHA-256", stale=1)
    s = Site({"/": verifier})
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        r = await c.get(server.url())
        assert r.status == 200
        assert_clean(c)
    assert len(s.seen) == 3
    first, second = verifier.accepted
    assert first["nonce"] != second["nonce"]
    assert second["nc"] == "00000001"  # a new nonce is counted from 1
    assert server.connections == 1


async def test_second_stale_and_wrong_password_return_the_401(raw_server: MakeServer) -> None:
    verifier = DigestServer(stale=5)
    s = Site({"/": verifier})
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        r = await c.get(server.url())
        assert (r.status, r.content) == (401, b"stale")
        assert len(s.seen) == 3  # unauthorized, answer, stale answer: then returned
        verifier.stale = 0
        wrong = rawhttp.DigestAuth(USER, "wrong")
        r = await c.get(server.url(), auth=wrong)
        assert (r.status, r.content) == (401, b"denied: wrong response")
        assert len(s.seen) == 5  # the request and one answer
        # a refused answer forgets the nonce: the next request asks to be challenged
        r = await c.get(server.url(), auth=wrong)
        assert r.status == 401
        assert [seen.fields.get("authorization") is None for seen in s.seen[5:]] == [True, False]
        assert_clean(c)


async def test_no_digest_challenge_returns_the_401(raw_server: MakeServer) -> None:
    reply = message(401, [("WWW-Authenticate", 'Basic realm="x", Bearer')], b"no")
    s = Site(routes={"/": reply})
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        r = await c.get(server.url())
    assert (r.status, r.content, len(s.seen)) == (401, b"no", 1)


async def test_the_strongest_digest_challenge_is_answered_among_others(
    raw_server: MakeServer,
) -> None:
    weaker = f'Digest realm="{REALM}", nonce="not-issued", algorithm=MD5, qop="auth"'
    other = ('Basic realm="x", Newauth realm="apps", type=1', "Negotiate abc==", weaker)
    verifier = DigestServer(algorithm="SHA-256", extra_challenges=other)
    server = await raw_server(Site({"/": verifier}))
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        assert (await c.get(server.url())).status == 200


async def test_challenge_body_is_drained_and_connection_reused(raw_server: MakeServer) -> None:
    s = Site({"/": DigestServer()}, body_401=b"x" * 200_000)
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        r = await c.get(server.url())
        assert r.status == 200
        assert_clean(c)
    assert server.connections == 1


async def test_request_body_sent_again_with_the_answer(raw_server: MakeServer) -> None:
    verifier = DigestServer(qop="auth-int")  # the body is hashed too
    s = Site({"/": verifier})
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        r = await c.post(server.url(), content=b"payload")
        assert (r.status, r.content) == (200, b"welcome payload")
        assert verifier.accepted[0]["qop"] == "auth-int"
        # a file is streamed: its body is not known, so auth-int cannot be answered
        with io.BytesIO(b"from a file") as f:
            r = await c.put(server.url(), content=f)
            assert (r.status, r.content) == (401, b"denied: no credentials")
        verifier.qop = "auth"
        with io.BytesIO(b"from a file") as f:  # with qop=auth it is sent again, rewound
            r = await c.put(server.url(), content=f)
            assert (r.status, r.content) == (200, b"welcome from a file")
        assert_clean(c)
    bodies = [b"payload"] * 2 + [b"from a file"] * 3
    assert [seen.body for seen in s.seen] == bodies
    assert s.seen[2].fields.get("authorization") is None  # auth-int: not sent up front


async def test_streamed_body_is_refused_before_sending(raw_server: MakeServer) -> None:
    s = Site({"/": DigestServer()})
    server = await raw_server(s)

    def chunks() -> Iterator[bytes]:
        yield b"once only"

    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        with pytest.raises(rawhttp.InvalidRequest, match="cannot be sent twice"):
            await c.post(server.url(), content=chunks())
    assert server.connections == 0


async def test_concurrent_requests_count_each_nonce_once(raw_server: MakeServer) -> None:
    verifier = DigestServer(algorithm="SHA-256")
    s = Site({"/": verifier})
    server = await raw_server(s)
    auth = rawhttp.DigestAuth(USER, PASSWORD)
    async with rawhttp.Session(timeout=QUICK, auth=auth) as c:
        assert (await c.get(server.url())).status == 200
        results = await asyncio.gather(*(c.get(server.url()) for _ in range(10)))
    assert [r.status for r in results] == [200] * 10
    # the server refuses a count seen before, and out-of-order arrivals are fine for it
    assert sorted(int(p["nc"], 16) for p in verifier.accepted) == list(range(1, 12))


async def test_next_nonce_from_authentication_info(raw_server: MakeServer) -> None:
    verifier = DigestServer(next_nonce=True)
    s = Site({"/": verifier})
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        for _ in range(3):
            assert (await c.get(server.url())).status == 200
    assert len(s.seen) == 4
    nonces = [p["nonce"] for p in verifier.accepted]
    assert len(set(nonces)) == 3
    assert [p["nc"] for p in verifier.accepted] == ["00000001"] * 3


async def test_credentials_up_front_only_for_the_same_origin(raw_server: MakeServer) -> None:
    one, two = Site({"/": DigestServer()}), Site({"/": DigestServer()})
    a, b = await raw_server(one), await raw_server(two)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        assert (await c.get(a.url())).status == 200
        assert (await c.get(b.url())).status == 200
    assert two.authorizations()[0] is None


async def test_digest_wins_over_url_userinfo(raw_server: MakeServer) -> None:
    s = Site({"/": DigestServer()})
    server = await raw_server(s)
    url = server.url().replace("://", "://url-user:url-secret@")
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        assert (await c.get(url)).status == 200
    assert s.authorizations()[0] is None
    assert all("url-" not in (a or "") for a in s.authorizations())


def test_secrets_stay_out_of_reprs() -> None:
    for auth in (rawhttp.DigestAuth(USER, "s3cret"), rawhttp.BasicAuth(USER, "s3cret")):
        assert "s3cret" not in repr(auth)
        assert USER in repr(auth)
    with pytest.raises(rawhttp.InvalidRequest) as info:
        rawhttp.DigestAuth(USER, b"s3cret")  # type: ignore[arg-type]
    assert "s3cret" not in str(info.value)


# -- Basic ----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["pair", "BasicAuth", "session"])
async def test_basic_credentials_sent_up_front(raw_server: MakeServer, where: str) -> None:
    s = Site(routes={"/": message(200, [], b"hi")})
    server = await raw_server(s)
    session_auth = rawhttp.BasicAuth("u", "p w") if where == "session" else None
    request_auth = {"pair": ("u", "p w"), "BasicAuth": rawhttp.BasicAuth("u", "p w")}.get(where)
    async with rawhttp.Session(timeout=QUICK, auth=session_auth) as c:
        r = await c.get(server.url(), auth=request_auth)
    assert r.status == 200
    assert s.authorizations() == [basic("u", "p w")]


def test_basic_auth_flow_is_usable_as_a_flow() -> None:
    flow = rawhttp.BasicAuth("u", "p").auth_flow(None)  # type: ignore[arg-type]
    assert isinstance(flow, Generator)
    assert list(next(flow)) == [(b"Authorization", basic("u", "p").encode())]


# -- custom flows through the public API ---------------------------------------------


class TokenAuth(rawhttp.Auth):
    """A bearer token, refreshed once when the server says 401."""

    def __init__(self) -> None:
        self.token = "old"
        self.refreshes = 0

    def auth_flow(self, request: AuthRequest) -> Generator[dict[str, str], rawhttp.Response, None]:
        self.seen = (request.method, request.url, request.headers.get("content-type"))
        response = yield {"Authorization": f"Bearer {self.token}"}
        if response.status == 401:
            self.refreshes += 1
            self.token = "new"
            yield {"Authorization": f"Bearer {self.token}", "X-Target": request.target}


class AsyncTokenAuth(rawhttp.Auth):
    """The same as an async generator that reads the 401's body to decide."""

    async def auth_flow(
        self, request: AuthRequest
    ) -> AsyncGenerator[list[tuple[str, str]], rawhttp.Response]:
        response = yield [("Authorization", "Bearer old")]
        if response.status == 401 and await response.read() == b"expired":
            await asyncio.sleep(0)  # e.g. fetching a new token
            yield [("Authorization", "Bearer new")]


def bearer_site() -> Site:
    expired = message(401, [("WWW-Authenticate", 'Bearer error="invalid_token"')], b"expired")
    routes = {"/": message(200, [], b"ok")}

    class Bearer(Site):
        async def __call__(self, conn: RawConnection) -> None:
            for _ in range(20):
                head, body = await read_message(conn)
                if not head:
                    return
                seen = Seen(head, body)
                self.seen.append(seen)
                valid = seen.fields.get("authorization") == "Bearer new"
                await conn.send(routes["/"] if valid else expired)

    return Bearer(routes=routes)


@pytest.mark.parametrize("flow", [TokenAuth, AsyncTokenAuth])
async def test_custom_flow_refreshes_a_token(raw_server: MakeServer, flow: type) -> None:
    s = bearer_site()
    server = await raw_server(s)
    auth = flow()
    async with rawhttp.Session(timeout=QUICK) as c:
        r = await c.post(
            server.url("/?x"), auth=auth, json={"a": 1}, headers={"Authorization": "mine"}
        )
        assert (r.status, r.content) == (200, b"ok")
        assert_clean(c)
    assert s.authorizations() == ["Bearer old", "Bearer new"]  # the flow's replaced mine
    assert [seen.body for seen in s.seen] == [b'{"a": 1}'] * 2
    assert server.connections == 1
    if flow is TokenAuth:
        assert s.seen[1].fields["x-target"] == "/?x"
        assert auth.seen == ("POST", server.url("/?x"), "application/json")


class Forever(rawhttp.Auth):
    def auth_flow(self, request: Any) -> Generator[None, rawhttp.Response, None]:
        while True:
            yield None


class Nothing(rawhttp.Auth):
    def auth_flow(self, request: Any) -> Generator[None, rawhttp.Response, None]:
        return
        yield None


class NotAGenerator(rawhttp.Auth):
    def auth_flow(self, request: Any) -> Any:
        return [("Authorization", "x")]


class BadField(rawhttp.Auth):
    def auth_flow(self, request: Any) -> Generator[Any, rawhttp.Response, None]:
        yield [("Authorization", "Bearer to\r\nken-s3cret")]


class OneShot(rawhttp.Auth):
    may_resend = False

    def auth_flow(self, request: Any) -> Generator[Any, rawhttp.Response, None]:
        yield {"X-Signed": request.method}


@pytest.mark.parametrize(
    ("auth", "error", "sent"),
    [
        (Forever(), "more than 8 requests", 8),
        (Nothing(), "sent no request", 0),
        (NotAGenerator(), "must be a generator", 0),
        (BadField(), "forbidden character: <hidden>", 0),
    ],
)
async def test_broken_flows_raise_invalid_request(
    raw_server: MakeServer, auth: rawhttp.Auth, error: str, sent: int
) -> None:
    s = Site(routes={"/": message(401, [], b"no")})
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK) as c:
        with pytest.raises(rawhttp.InvalidRequest, match=error) as info:
            await c.get(server.url(), auth=auth)
        assert "s3cret" not in str(info.value)
        assert_clean(c)
    assert len(s.seen) == sent


async def test_a_flow_that_sends_once_may_stream_a_body(raw_server: MakeServer) -> None:
    s = Site(routes={"/": message(200, [], b"ok")})
    server = await raw_server(s)

    async def chunks() -> AsyncGenerator[bytes, None]:
        yield b"streamed"

    async with rawhttp.Session(timeout=QUICK) as c:
        r = await c.post(server.url(), auth=OneShot(), content=chunks())
    assert r.status == 200
    assert (s.seen[0].fields["x-signed"], s.seen[0].body) == ("POST", b"streamed")


# -- redirects and cookies -----------------------------------------------------------


async def test_digest_follows_a_redirect_on_the_same_origin(raw_server: MakeServer) -> None:
    verifier = DigestServer()
    s = Site({"/a": verifier, "/b": verifier})
    server = await raw_server(s)
    s.digest["/a"] = RedirectingDigest(verifier, "/b")
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        r = await c.get(server.url("/a"), follow_redirects=True)
        assert (r.status, r.content) == (200, b"welcome ")
    assert [seen.target for seen in s.seen] == ["/a", "/a", "/b"]  # /b: the nonce up front


class RedirectingDigest(DigestServer):
    """A path that, once authorized, redirects to ``location``."""

    def __init__(self, verifier: DigestServer, location: str) -> None:
        self.__dict__.update(verifier.__dict__)
        self.location = location

    def respond(
        self, method: str, target: str, value: str | None, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        status, fields, reply = super().respond(method, target, value, body)
        if status == 200:
            return 302, [("Location", self.location)], b""
        return status, fields, reply


async def test_digest_not_sent_to_another_origin(raw_server: MakeServer) -> None:
    other = Site({"/": DigestServer()})
    b = await raw_server(other)
    home = Site({"/": DigestServer()})
    a = await raw_server(home)
    home.digest["/"] = RedirectingDigest(home.digest["/"], b.url())
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        r = await c.get(a.url(), follow_redirects=True)
        # the other origin's challenge is not answered: its 401 is the result
        assert r.status == 401
        assert [h.status for h in r.history] == [302]
    assert other.authorizations() == [None]


async def test_cookie_set_by_the_challenge_goes_with_the_answer(raw_server: MakeServer) -> None:
    s = Site({"/": DigestServer()}, extra_401=[("Set-Cookie", "sid=abc; Path=/")])
    server = await raw_server(s)
    async with rawhttp.Session(timeout=QUICK, auth=rawhttp.DigestAuth(USER, PASSWORD)) as c:
        assert (await c.get(server.url())).status == 200
    assert s.seen[0].fields.get("cookie") is None
    assert s.seen[1].fields.get("cookie") == "sid=abc"


# -- the blocking API against Werkzeug's server ---------------------------------------


def test_blocking_api_with_digest(httpserver: HTTPServer) -> None:
    verifier = DigestServer(algorithm="SHA-256-sess")

    def handler(request: WRequest) -> WResponse:
        status, fields, body = verifier.respond(
            request.method,
            request.full_path.rstrip("?"),
            request.headers.get("Authorization"),
            request.get_data(),
        )
        return WResponse(body, status=status, headers=fields)

    httpserver.expect_request("/blocking").respond_with_handler(handler)
    url = httpserver.url_for("/blocking")
    auth = rawhttp.DigestAuth(USER, PASSWORD)
    with rawhttp.SyncSession(timeout=QUICK, auth=auth) as s:
        assert s.get(url).status == 200
        assert s.post(url, content=b"data").content == b"welcome data"
    r = rawhttp.get(url, auth=rawhttp.DigestAuth(USER, PASSWORD), timeout=QUICK)
    assert (r.status, r.content) == (200, b"welcome ")
    assert verifier.refused == ["no credentials", "no credentials"]
    assert len(verifier.accepted) == 3
