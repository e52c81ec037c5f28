"""Which Python codec decodes a body: the charset its Content-Type names, else the
Session's ``default_encoding`` (a name, or a callable given the body), else UTF-8.

The server picks the label, so it may name anything: a codec that is not a text
encoding (``base64``, ``rot13``, ``zlib``: ``bytes.decode`` refuses them with
LookupError), one that raises on arbitrary bytes even with ``errors="replace"``
(``idna``, ``punycode``, ``undefined``), one that warns (``unicode_escape``), or a
name nobody knows.  Only labels of Python's own text codecs are accepted; anything
else gives None and the caller falls back to UTF-8.

Labels are matched against the names Python's ``encodings`` package knows before
``codecs.lookup()`` sees them: that package caches every name it is asked for, a
miss included, for the life of the process, so passing on each label a server
invents would let a server grow that cache without bound.

Choosing never raises once a response has come (:func:`default_codec`); only the
caller's own settings are refused, when they are made (:func:`set_encoding`,
:func:`check_encoding_option`).
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable
from typing import TypeAlias

__all__ = [
    "DefaultEncoding",
    "charset_param",
    "check_encoding_option",
    "default_codec",
    "set_encoding",
    "text_codec",
]

DefaultEncoding: TypeAlias = "str | Callable[[bytes], str] | None"
"""A ``default_encoding`` option: a name, or a callable given body bytes returning one."""

NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})
"""Text codecs that are not charsets: found by decoding 5000 random byte strings with
every codec name and alias Python 3.11 knows (warnings as errors).  idna, punycode and
undefined raise UnicodeError with ``errors="replace"``; unicode_escape warns
(DeprecationWarning) at a backslash; raw_unicode_escape reads Python escapes too."""

MAX_LABEL = 64
"""Longer labels are refused unread (the longest codec name or alias has 21 characters)."""

_SEPARATORS = r"[^a-z0-9.]+"  # compiled on first use (re caches it)


def text_codec(label: str) -> str | None:
    """The canonical name of the text codec ``label`` names (case, spaces, ``-`` and
    ``_`` ignored, as Python does), or None if it names no text encoding."""
    if len(label) > MAX_LABEL or not label.isascii():
        return None
    key = re.sub(_SEPARATORS, "_", label.lower()).strip("_")
    known = _known_names()
    if key not in known:
        key = key.replace(".", "_")
        if key not in known:
            return None
    return _codec(key)


def charset_param(content_type: str) -> str | None:
    """The codec the ``charset`` parameter of a Content-Type value names, or None when
    there is none or it names no text encoding (the first ``charset`` counts)."""
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return text_codec(value.strip().strip('"'))
    return None


def default_codec(default: DefaultEncoding, sample: bytes | None) -> tuple[str, bool]:
    """The codec for a body whose Content-Type names no charset (or one naming no
    text encoding): ``default`` (a callable is given ``sample``; not asked when that
    is None), else UTF-8; and whether it is a callable's answer, to keep.  Never
    raises: a callable that raises (any Exception) or names no text encoding, or a
    name of none, gives UTF-8, since choosing how to read the text must not fail a
    response already received."""
    if default is None:
        return "utf-8", False
    if not callable(default):
        return (text_codec(default) if isinstance(default, str) else None) or "utf-8", False
    if sample is None:
        return "utf-8", False
    try:
        name = default(sample)
    except Exception:
        return "utf-8", True
    return (text_codec(name) if isinstance(name, str) else None) or "utf-8", True


def set_encoding(value: str) -> str:
    """The codec ``Response.encoding = value`` sets: LookupError if ``value`` names
    no text encoding, TypeError for a non-str."""
    if not isinstance(value, str):
        raise TypeError(f"encoding must be a str (or None), not {type(value).__name__}")
    codec = text_codec(value)
    if codec is None:
        raise LookupError(f"{value[:MAX_LABEL]!r} names no text encoding")
    return codec


def check_encoding_option(value: object, what: str = "default_encoding") -> None:
    """Refuse, when it is given, an encoding option that could never be used:
    TypeError unless it is a str or a callable, LookupError for a name that is no
    text encoding (:func:`text_codec` gives None).  A callable is checked when it is
    called, where anything it does wrong falls back to UTF-8."""
    if callable(value):
        return
    if not isinstance(value, str):
        raise TypeError(f"{what} must be an encoding name or a callable, not {value!r}")
    if text_codec(value) is None:
        raise LookupError(f"{what}: {value[:MAX_LABEL]!r} names no text encoding")


@functools.cache
def _known_names() -> frozenset[str]:
    """Every codec alias and every module of the ``encodings`` package, normalized."""
    import encodings
    import encodings.aliases
    import pkgutil

    names = set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    names.update(module.name for module in pkgutil.iter_modules(encodings.__path__))
    return frozenset(name.lower() for name in names)


@functools.cache  # bounded: keys are only names from _known_names()
def _codec(key: str) -> str | None:
    try:
        name = codecs.lookup(key).name
        # LookupError for a codec that is not a text encoding (not for b"": no lookup).
        b"0".decode(name, errors="replace")
    except (LookupError, ValueError):  # "mbcs" and "oem" exist only on Windows
        return None
    return None if name in NOT_CHARSETS else name
