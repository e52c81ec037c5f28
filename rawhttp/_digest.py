"""Digest access authentication (RFC 7616) as pure functions: the challenges of
``WWW-Authenticate`` fields (the auth-param syntax of RFC 9110 section 11.6.1), the
choice of the Digest challenge to answer, and the ``Authorization`` value answering
it.  No I/O and no state: :class:`rawhttp.DigestAuth` (in :mod:`rawhttp._auth`) keeps
the nonces and their counts.  Imported only when a Digest challenge is answered.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Final, NamedTuple

__all__ = ["Challenge", "DigestChallenge", "answer", "choose", "parse_challenges", "parse_params"]

_TOKEN: Final = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED: Final = r'"(?:[^"\\]|\\.)*"'
_SEP: Final = r"[ \t]*(?:,|$)"  # the end of a list element
_PARAM = re.compile(rf"({_TOKEN})[ \t]*=[ \t]*({_TOKEN}|{_QUOTED}){_SEP}")
_SCHEME = re.compile(rf"({_TOKEN})(?:[ \t]+|{_SEP})")
_TOKEN68 = re.compile(rf"([A-Za-z0-9\-._~+/]+=*){_SEP}")
_LIST_GAP = re.compile(r"[ \t,]*")
_ESCAPE = re.compile(r"\\(.)")
HASHES: Final = {"SHA-512-256": "sha512_256", "SHA-256": "sha256", "MD5": "md5"}
"""The algorithms answered (without their ``-sess`` variants), most preferred first."""


class Challenge(NamedTuple):
    """One challenge: its scheme (lower-case), its parameters (names lower-case,
    values unquoted) and its token68, if it has one instead of parameters."""

    scheme: str
    params: dict[str, str]
    token68: str | None = None


class DigestChallenge(NamedTuple):
    """A Digest challenge this client can answer."""

    realm: str
    nonce: str
    opaque: str | None
    algorithm: str | None
    """The ``algorithm`` parameter as the server spelled it (None: MD5, unnamed)."""
    hash_name: str
    """The hashlib name of the algorithm's hash function."""
    session: bool
    """A ``-sess`` algorithm: the password hash is bound to the nonce and cnonce."""
    qop: str | None
    """``auth`` or ``auth-int``; None for a challenge without ``qop`` (RFC 2069)."""
    userhash: bool
    stale: bool


def _unquote(value: str) -> str:
    if value.startswith('"'):
        return _ESCAPE.sub(r"\1", value[1:-1])
    return value


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_params(value: str, pos: int = 0, params: dict[str, str] | None = None) -> dict[str, str]:
    """The ``name=value`` list of a field such as ``Authentication-Info``; a
    malformed element ends it (what came before is kept)."""
    params = {} if params is None else params
    while pos < len(value):
        pos = _LIST_GAP.match(value, pos).end()  # type: ignore[union-attr]  # always matches
        m = _PARAM.match(value, pos)
        if m is None:
            break
        params.setdefault(m[1].lower(), _unquote(m[2]))
        pos = m.end()
    return params


def parse_challenges(values: Iterable[str]) -> list[Challenge]:
    """The challenges of ``WWW-Authenticate`` field values, in order: several per
    field and several fields.  A challenge that repeats a parameter, or in which
    the syntax breaks, is left out, with the rest of its field."""
    found: list[Challenge] = []
    for value in values:
        pos, current, seen = 0, -1, set()  # current: the index in found of the challenge read
        while True:
            pos = _LIST_GAP.match(value, pos).end()  # type: ignore[union-attr]  # always matches
            if pos >= len(value):
                break
            m = _PARAM.match(value, pos) if current >= 0 else None
            if m is not None:
                name = m[1].lower()
                if name in seen:  # RFC 9110 11.2: each parameter at most once
                    del found[current]
                    break
                seen.add(name)
                found[current].params[name] = _unquote(m[2])
                pos = m.end()
                continue
            m = _SCHEME.match(value, pos)
            if m is None:  # broken syntax: the challenge being read is incomplete
                if current >= 0:
                    del found[current]
                break
            found.append(Challenge(m[1].lower(), {}))
            current, seen = len(found) - 1, set()
            pos = m.end()
            if not m[0].endswith(",") and not _PARAM.match(value, pos):
                t68 = _TOKEN68.match(value, pos)
                if t68 is not None:
                    found[current] = found[current]._replace(token68=t68[1])
                    pos = t68.end()
                    current = -1  # a token68 takes no parameters after it
    return found


def _usable_hash(base: str) -> str | None:
    name = HASHES.get(base)
    if name is None:
        return None
    if name != "md5" and name != "sha256":  # SHA-512/256 depends on the OpenSSL build
        try:
            hashlib.new(name)
        except ValueError:
            return None
    return name


def choose(challenges: Iterable[Challenge], *, body_known: bool) -> DigestChallenge | None:
    """The Digest challenge to answer: the strongest algorithm offered (SHA-512-256,
    then SHA-256, then MD5), the first of equals; None when no Digest challenge can be
    answered.  ``qop=auth`` is preferred; ``auth-int`` (which hashes the body) is
    answered only when the body is known (``body_known``)."""
    best: DigestChallenge | None = None
    rank = len(HASHES)
    preference = list(HASHES)
    for challenge in challenges:
        params = challenge.params
        if challenge.scheme != "digest" or "nonce" not in params or "realm" not in params:
            continue
        algorithm = params.get("algorithm")
        base = (algorithm or "MD5").upper()
        session = base.endswith("-SESS")
        base = base.removesuffix("-SESS")
        hash_name = _usable_hash(base)
        if hash_name is None or preference.index(base) >= rank:
            continue
        qop: str | None = None
        if "qop" in params:
            offered = {q.strip().lower() for q in params["qop"].split(",")}
            if "auth" in offered:
                qop = "auth"
            elif "auth-int" in offered and body_known:
                qop = "auth-int"
            else:
                continue
        elif session:  # -sess needs a cnonce, which is sent only with a qop
            continue
        rank = preference.index(base)
        best = DigestChallenge(
            realm=params["realm"],
            nonce=params["nonce"],
            opaque=params.get("opaque"),
            algorithm=algorithm,
            hash_name=hash_name,
            session=session,
            qop=qop,
            userhash=params.get("userhash", "").lower() == "true",
            stale=params.get("stale", "").lower() == "true",
        )
    return best


def answer(
    challenge: DigestChallenge,
    username: str,
    password: str,
    *,
    method: str,
    uri: str,
    nc: int,
    cnonce: str,
    body: bytes | None,
) -> str:
    """The ``Authorization`` value answering ``challenge`` for a request of
    ``method`` to ``uri`` (its request target), with nonce count ``nc`` (RFC 7616
    section 3.4).  The user name and password are hashed as UTF-8; the server's
    values as the bytes it sent."""

    def h(data: bytes) -> str:
        return hashlib.new(challenge.hash_name, data).hexdigest()

    realm = challenge.realm.encode("latin-1")
    nonce = challenge.nonce.encode("latin-1")
    user = username.encode("utf-8")
    count = b"%08x" % nc
    ha1 = h(b"%s:%s:%s" % (user, realm, password.encode("utf-8")))
    if challenge.session:
        ha1 = h(b"%s:%s:%s" % (ha1.encode(), nonce, cnonce.encode()))
    a2 = b"%s:%s" % (method.encode("ascii"), uri.encode("ascii"))
    if challenge.qop == "auth-int":
        a2 += b":" + h(body or b"").encode()
    if challenge.qop is None:
        response = h(b"%s:%s:%s" % (ha1.encode(), nonce, h(a2).encode()))
    else:
        parts = (
            ha1.encode(),
            nonce,
            count,
            cnonce.encode(),
            challenge.qop.encode(),
            h(a2).encode(),
        )
        response = h(b":".join(parts))
    out = [_username(challenge, username, user, realm)]
    out += [f"realm={_quote(challenge.realm)}", f"uri={_quote(uri)}"]
    if challenge.algorithm is not None:
        out.append(f"algorithm={challenge.algorithm}")
    out.append(f"nonce={_quote(challenge.nonce)}")
    if challenge.qop is not None:
        out += [f"nc={count.decode()}", f"cnonce={_quote(cnonce)}", f"qop={challenge.qop}"]
    out.append(f'response="{response}"')
    if challenge.opaque is not None:
        out.append(f"opaque={_quote(challenge.opaque)}")
    if challenge.userhash:
        out.append("userhash=true")
    return "Digest " + ", ".join(out)


def _username(challenge: DigestChallenge, username: str, user: bytes, realm: bytes) -> str:
    """The ``username`` parameter: hashed with ``userhash``; ``username*`` (RFC 8187,
    UTF-8) for a name a quoted-string cannot carry as ASCII."""
    if challenge.userhash:
        return (
            'username="' + hashlib.new(challenge.hash_name, user + b":" + realm).hexdigest() + '"'
        )
    if all(" " <= c <= "~" for c in username):
        return f"username={_quote(username)}"
    from urllib.parse import quote

    return "username*=UTF-8''" + quote(user, safe="!#$&+-.^_`|~")
