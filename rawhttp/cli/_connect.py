"""``--resolve HOST:PORT:ADDR`` and ``--connect-to HOST1:PORT1:HOST2:PORT2`` as the
``connect_to=`` callable of rawhttp's Session: asked with a URL's host and port
before a direct connection opens, it names where to connect instead (the Host
header, TLS SNI and certificate checks stay the URL's).

As curl: ``--connect-to`` is applied first (an empty field matches any host or port,
or keeps it), then ``--resolve`` gives the address of the resulting host and port
(``*`` as HOST matches any; ``+HOST:...`` is accepted, ``-HOST:PORT`` removes an
entry given before it).  IPv6 addresses are written in brackets.  The first of
several comma-separated addresses is used.  A malformed argument exits 2 (as curl's
"option --resolve: ...", with a warning) before anything is sent."""

from __future__ import annotations

from collections.abc import Callable

from ._exit import EXIT_USAGE, CliError

__all__ = ["connect_map"]

Target = tuple[str, int]


def _split_host(text: str) -> tuple[str, str]:
    """``HOST`` or ``[V6]`` at the start of ``text``, and what follows its colon."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] not in (":", ""):
            raise ValueError(text)
        return text[1:end], text[end + 2 :]
    host, _, rest = text.partition(":")
    return host, rest


def _port(text: str, *, empty_ok: bool) -> int | None:
    if text == "" and empty_ok:
        return None
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(text)
    return int(text)


def _resolve_entries(values: list[str]) -> dict[tuple[str, int], str]:
    entries: dict[tuple[str, int], str] = {}
    for value in values:
        try:
            remove = value.startswith("-")
            host, rest = _split_host(value.lstrip("+-"))
            port_text, _, addresses = rest.partition(":")
            port = _port(port_text, empty_ok=False)
            assert port is not None
            key = (host.lower(), port)
            if remove:
                entries.pop(key, None)
                continue
            first = addresses.split(",", 1)[0].strip()
            address = first[1:-1] if first.startswith("[") and first.endswith("]") else first
            if not host or not address:
                raise ValueError(value)
        except ValueError:
            raise CliError(EXIT_USAGE, f"option --resolve: bad argument {value!r}") from None
        entries[key] = address
    return entries


def _connect_entries(values: list[str]) -> list[tuple[str, int | None, str, int | None]]:
    entries = []
    for value in values:
        try:
            host1, rest = _split_host(value)
            port1_text, _, rest = rest.partition(":")
            host2, port2_text = _split_host(rest)
            entries.append(
                (
                    host1.lower(),
                    _port(port1_text, empty_ok=True),
                    host2,
                    _port(port2_text, empty_ok=True),
                )
            )
        except ValueError:
            raise CliError(EXIT_USAGE, f"option --connect-to: bad argument {value!r}") from None
    return entries


def connect_map(
    resolve: list[str], connect_to: list[str]
) -> Callable[[str, int], Target | None] | None:
    """The Session's ``connect_to`` for these options, or None when none is given."""
    if not resolve and not connect_to:
        return None
    addresses = _resolve_entries(resolve)
    moves = _connect_entries(connect_to)

    def where(host: str, port: int) -> Target | None:
        target_host, target_port = host, port
        for host1, port1, host2, port2 in moves:
            if host1 in ("", host.lower()) and port1 in (None, port):
                target_host = host2 or host
                target_port = port if port2 is None else port2
                break
        key = (target_host.lower(), target_port)
        address = addresses.get(key) or addresses.get(("*", target_port))
        if address is not None:
            target_host = address
        if (target_host, target_port) == (host, port):
            return None
        return target_host, target_port

    return where
