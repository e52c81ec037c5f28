"""Which Python codec decodes a body whose Content-Type names a charset.

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
"""

from __future__ import annotations

import codecs
import functools
import re

__all__ = ["text_codec"]

NOT_CHARSETS = frozenset({"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape"})
"""Text codecs that are not charsets: found by decoding 5000 random byte strings with
every codec name and alias Python 3.11 knows (warnings as errors).  idna, punycode and
undefined raise UnicodeError with ``errors="replace"``; unicode_escape warns
(DeprecationWarning) at a backslash; raw_unicode_escape reads Python escapes too."""

MAX_LABEL = 64
"""Longer labels are refused unread (the longest codec name or alias has 21 characters)."""

_SEPARATORS = re.compile(r"[^a-z0-9.]+")


def text_codec(label: str) -> str | None:
    """The canonical name of the text codec ``label`` names (case, spaces, ``-`` and
    ``_`` ignored, as Python does), or None if it names no text encoding."""
    if len(label) > MAX_LABEL or not label.isascii():
        return None
    key = _SEPARATORS.sub("_", label.lower()).strip("_")
    known = _known_names()
    if key not in known:
        key = key.replace(".", "_")
        if key not in known:
            return None
    return _codec(key)


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
