"""``-K/--config FILE``: curl's config-file syntax turned into command-line tokens.

One option per line: a long name with or without its dashes, then its parameter after
whitespace, ``=`` or ``:`` (only whitespace when the name has dashes); a parameter with
whitespace is written in double quotes, where ``\\\\``, ``\\"``, ``\\t``, ``\\n``,
``\\r`` and ``\\v`` are escapes and a backslash before any other character is dropped.
A line whose first non-blank character is ``#`` is a comment.  An unknown option is
a warning (``FILE:LINE: warning: 'NAME' is unknown``), as curl gives, and is skipped."""

from __future__ import annotations

from ._options import BY_LONG, BY_SHORT, Kind

__all__ = ["config_tokens"]

_ESCAPES = {"\\": "\\", '"': '"', "t": "\t", "n": "\n", "r": "\r", "v": "\v"}
_BLANK = " \t"


def config_tokens(text: str, name: str) -> tuple[list[list[str]], list[str]]:
    """The tokens of each option line of ``text`` (the file ``name``), and warnings."""
    lines: list[list[str]] = []
    warnings: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.lstrip(_BLANK)
        if not line or line.startswith("#"):
            continue
        dashed = line.startswith("-")
        end = 0
        stops = _BLANK if dashed else _BLANK + "=:"
        while end < len(line) and line[end] not in stops:
            end += 1
        option, rest = line[:end], line[end:].lstrip(_BLANK)
        if not dashed and rest[:1] in ("=", ":"):
            rest = rest[1:].lstrip(_BLANK)
        token = option if dashed else f"--{option}"
        kind = _kind(token)
        if kind is None:
            warnings.append(f"{name}:{number}: warning: '{option}' is unknown")
            continue
        if kind in (Kind.FLAG, None) or token in ("-O", "--remote-name", "-:", "--next"):
            lines.append([token])
        elif rest:
            lines.append([token, _parameter(rest)])
        else:
            lines.append([token])  # the reader says "requires parameter"
    return lines, warnings


def _kind(token: str) -> Kind | None:
    """The kind of the option ``token`` names, None if it names none."""
    if token.startswith("--"):
        name = token[2:]
        option = BY_LONG.get(name) or BY_LONG.get(name.removeprefix("no-"))
        return None if option is None else option.kind
    if len(token) == 2 and token[1] in BY_SHORT:
        return BY_SHORT[token[1]].kind
    return Kind.SPECIAL if len(token) > 2 else None  # "-sS": the reader checks each


def _parameter(rest: str) -> str:
    """A parameter: up to the first blank, or a quoted string with its escapes."""
    if not rest.startswith('"'):
        end = 0
        while end < len(rest) and rest[end] not in _BLANK:
            end += 1
        return rest[:end]
    out: list[str] = []
    i = 1
    while i < len(rest):
        c = rest[i]
        if c == '"':
            break
        if c == "\\" and i + 1 < len(rest):
            i += 1
            out.append(_ESCAPES.get(rest[i], rest[i]))
        else:
            out.append(c)
        i += 1
    return "".join(out)
