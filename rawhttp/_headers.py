"""Headers: a case-insensitive, order-keeping multimap of received header fields."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeAlias, overload

__all__ = ["Headers", "HeadersInput"]

HeadersInput: TypeAlias = (
    "Headers | Mapping[str, str | bytes] | Iterable[tuple[str | bytes, str | bytes]]"
)


class Headers:
    """Header fields in the order received; lookups ignore the case of names.

    Values are ``str`` decoded as latin-1, so every byte a server sent
    (obs-text included) round-trips with ``value.encode("latin-1")``.
    ``h[name]`` and ``h.get(name)`` join repeated fields with ", ";
    ``h.get_all(name)`` returns them one by one (use it for Set-Cookie).
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: HeadersInput | None = None) -> None:
        self._fields: list[tuple[str, str]] = []
        self._index: dict[str, list[str]] | None = None
        if fields is None:
            return
        if isinstance(fields, Headers):
            self._fields = list(fields._fields)
            return
        pairs = fields.items() if isinstance(fields, Mapping) else fields
        for name, value in pairs:
            self._fields.append((_to_str(name), _to_str(value)))

    @classmethod
    def _from_list(cls, fields: list[tuple[str, str]]) -> Headers:
        """Wrap an already-validated list without copying (used by the parser)."""
        self = cls.__new__(cls)
        self._fields = fields
        self._index = None
        return self

    def _lookup(self) -> dict[str, list[str]]:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._fields:
                key = name.lower()
                found = index.get(key)
                if found is None:
                    index[key] = [value]
                else:
                    found.append(value)
            self._index = index
        return index

    def __getitem__(self, name: str) -> str:
        values = self._lookup().get(name.lower())
        if values is None:
            raise KeyError(name)
        return values[0] if len(values) == 1 else ", ".join(values)

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    @overload
    def get(self, name: str, default: None) -> str | None: ...

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of ``name`` (repeats joined with ", "), or ``default``."""
        values = self._lookup().get(name.lower())
        if values is None:
            return default
        return values[0] if len(values) == 1 else ", ".join(values)

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in the order received; empty if absent."""
        return list(self._lookup().get(name.lower(), ()))

    def _values(self, key: str) -> list[str] | None:
        """The values of a lower-case name without copying (for the parser), or None."""
        return self._lookup().get(key)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup()

    def items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair as received, repeats included, in order."""
        return list(self._fields)

    def keys(self) -> list[str]:
        """Distinct names, in the case first received, in order of first appearance."""
        seen: dict[str, str] = {}
        for name, _ in self._fields:
            seen.setdefault(name.lower(), name)
        return list(seen.values())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        """The number of fields (repeats counted)."""
        return len(self._fields)

    def __bool__(self) -> bool:
        return bool(self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            mine, theirs = self._fields, other._fields
        elif isinstance(other, Mapping | list):
            try:
                theirs = Headers(other)._fields
            except (TypeError, ValueError):
                return NotImplemented
            mine = self._fields
        else:
            return NotImplemented
        return [(n.lower(), v) for n, v in mine] == [(n.lower(), v) for n, v in theirs]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


def _to_str(value: str | bytes) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, str):
        return value
    raise TypeError(f"header names and values must be str or bytes, not {type(value).__name__}")
