"""The documentation's pictures, generated from the code (and the benchmark's JSON)
so that they cannot drift from it:

- ``errors.svg``: the exception tree, walked from ``rawhttp.Error``'s subclasses;
- ``timeouts.svg``: the phases of a request (``Timings``) and which ``Timeout``
  field covers each;
- ``phases.svg``: the phases of ``Timings`` with ``first_byte`` and ``total``;
- ``bench.svg``: the medians of a ``bench/run.py`` result file.

``python docs/scripts/pictures.py`` rewrites them in ``docs/img/``; the mkdocs hook
does the same before every build and ``tests/test_docs.py`` checks the checked-in
copies are current.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

from svg import Drawing, text_width

import rawhttp
from rawhttp import _exceptions

DOCS = Path(__file__).resolve().parent.parent
IMG = DOCS / "img"
BENCH_JSON = DOCS / "data" / "bench.json"
"""The checked-in result of ``bench/run.py`` the Performance page is drawn from."""

BOX = "#e8eefc"
EDGE = "#3f51b5"
MUTED = "#666"


# -- the exception tree ------------------------------------------------------------------


def public_errors() -> dict[type, list[type]]:
    """Every public exception class under ``rawhttp.Error`` with its public children,
    each class under its first rawhttp base."""
    public = {getattr(rawhttp, n) for n in rawhttp.__all__ if n != "__version__"}
    tree: dict[type, list[type]] = {}
    order = {name: i for i, name in enumerate(_exceptions.__all__)}

    def key(cls: type) -> tuple[bool, int, str]:
        has_children = any(c in public for c in cls.__subclasses__())
        return (has_children, order.get(cls.__name__, len(order)), cls.__name__)

    def walk(cls: type) -> None:
        children = [
            c
            for c in cls.__subclasses__()
            if c in public and next(b for b in c.__mro__[1:] if b in public) is cls
        ]
        tree[cls] = sorted(children, key=key)
        for child in tree[cls]:
            walk(child)

    walk(rawhttp.Error)
    return tree


def annotation(cls: type) -> str:
    """What the tree shows beside a class: builtin bases, and the attributes its own
    ``__init__`` takes (or, for Error, the ones it declares)."""
    notes = [
        f"also builtins.{b.__name__}" if b.__name__ == cls.__name__ else f"also {b.__name__}"
        for b in cls.__bases__
        if not b.__module__.startswith("rawhttp") and b is not Exception
    ]
    if cls is rawhttp.Error:
        attributes = [n for n in cls.__annotations__]
    elif "__init__" in cls.__dict__:
        parameters = inspect.signature(cls.__dict__["__init__"]).parameters.values()
        attributes = [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]
    else:
        attributes = []
    notes += ["." + a for a in attributes]
    return "  ".join(notes)


def error_tree() -> str:
    tree = public_errors()
    rows: list[tuple[int, type]] = []

    def visit(cls: type, depth: int) -> None:
        rows.append((depth, cls))
        for child in tree[cls]:
            visit(child, depth + 1)

    visit(rawhttp.Error, 0)
    indent, row_h, box_h, size = 28, 30, 22, 13
    width = (
        max(
            16 + d * indent + text_width(c.__name__, size) + 24 + text_width(annotation(c), 11)
            for d, c in rows
        )
        + 16
    )
    d = Drawing(width, len(rows) * row_h + 16, title="The rawhttp exception tree")
    top: dict[type, float] = {}
    for i, (depth, cls) in enumerate(rows):
        x, y = 8 + depth * indent, 8 + i * row_h
        top[cls] = y
        parent = next((p for p, kids in tree.items() if cls in kids), None)
        if parent is not None:
            px = 8 + (depth - 1) * indent + 10
            d.line(px, top[parent] + box_h, px, y + box_h / 2, stroke="#999")
            d.line(px, y + box_h / 2, x, y + box_h / 2, stroke="#999")
        w = text_width(cls.__name__, size) + 16
        d.rect(x, y, w, box_h, fill=BOX, stroke=EDGE)
        d.text(x + 8, y + 15.5, cls.__name__, size=size, bold=True)
        d.text(x + w + 8, y + 15.5, annotation(cls), size=11, fill=MUTED)
    return d.render()


# -- phases and timeouts -------------------------------------------------------------------


def phases() -> list[tuple[str, str]]:
    """``Timings``' phases in order with what each covers, read from its docstring
    (the list under "Phases, in order"); each must be one of its attributes."""
    doc = inspect.getdoc(rawhttp.Timings) or ""
    section = doc.split("Phases, in order", 1)[1].split("Points in time", 1)[0]
    found = re.findall(r"^- ``(\w+)``: (.+?)(?=^- |\Z)", section, re.M | re.S)
    result = []
    for name, text in found:
        if name not in rawhttp.Timings.__slots__:
            raise ValueError(f"Timings has no phase {name!r}")
        short = " ".join(text.split()).split(";")[0].split(" (")[0].rstrip(".")
        result.append((name, short))
    return result


# Which phases each Timeout field covers (first, last) and what it raises.
TIMEOUT_SPANS: dict[str, tuple[str, str, str]] = {
    "pool": ("pool", "pool", "PoolTimeout"),
    "connect": ("connect", "tls", "ConnectTimeout"),
    "write": ("send", "send", "WriteTimeout"),
    "expect_continue": ("send", "send", "body sent anyway"),
    "read": ("wait", "receive", "ReadTimeout (each read)"),
    "total": ("pool", "receive", "the class of the step it cut"),
}


def phase_axis(d: Drawing, names: list[str], x0: float, seg: float, y: float) -> None:
    colors = ["#cfd8dc", "#bbdefb", "#c5cae9", "#c8e6c9", "#fff9c4", "#ffe0b2"]
    for i, name in enumerate(names):
        d.rect(x0 + i * seg, y, seg - 4, 28, fill=colors[i % len(colors)], stroke="#90a4ae")
        d.text(x0 + i * seg + (seg - 4) / 2, y + 19, name, size=13, anchor="middle", bold=True)


def timeouts() -> str:
    names = [n for n, _ in phases()]
    fields = set(rawhttp.Timeout.__slots__)
    if set(TIMEOUT_SPANS) != fields:
        raise ValueError(f"Timeout fields {sorted(fields)} != {sorted(TIMEOUT_SPANS)}")
    x0, seg = 190, 118
    d = Drawing(
        x0 + seg * len(names) + 20,
        70 + 34 * len(TIMEOUT_SPANS) + 10,
        title="Which timeout covers which phase of a request",
    )
    d.text(x0, 20, "phases of one request (Timings) →", size=12, fill=MUTED)
    phase_axis(d, names, x0, seg, 30)
    for i, (field, (first, last, raises)) in enumerate(TIMEOUT_SPANS.items()):
        y = 76 + i * 34
        a, b = names.index(first), names.index(last)
        d.text(x0 - 10, y + 15, f"Timeout.{field}", size=12, anchor="end", bold=True)
        d.rect(x0 + a * seg, y, (b - a + 1) * seg - 4, 22, fill="#ede7f6", stroke="#7e57c2")
        d.text(x0 + a * seg + 6, y + 15, raises, size=11)
    return d.render()


def phase_picture() -> str:
    found = phases()
    names = [n for n, _ in found]
    x0, seg = 20, 150
    d = Drawing(x0 + seg * len(names) + 20, 190, title="The phases of Response.timings")
    phase_axis(d, names, x0, seg, 20)
    for i, (_, text) in enumerate(found):
        words, lines, line = text.split(), [], ""
        for word in words:
            if len(line) + len(word) + 1 > 21:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}".strip()
        lines.append(line)
        for j, part in enumerate(lines[:4]):
            d.text(x0 + i * seg + 2, 66 + j * 14, part, size=10, fill=MUTED)
    first_byte_end = x0 + names.index("wait") * seg + seg - 4
    for y, end, label in (
        (134, first_byte_end, "first_byte"),
        (160, x0 + len(names) * seg - 4, "total"),
    ):
        d.line(x0, y, end, y, stroke=EDGE)
        d.line(x0, y - 5, x0, y + 5, stroke=EDGE)
        d.line(end, y - 5, end, y + 5, stroke=EDGE)
        d.text(x0 + 6, y - 4, f"{label} (from the start)", size=11, fill=EDGE)
    return d.render()


# -- the benchmark chart -------------------------------------------------------------------


def bench_chart(result: dict[str, Any]) -> str:
    """Per scenario, each client's median as a bar relative to the fastest one."""
    units = {name: spec.get("unit", "") for name, spec in result["scenarios"].items()}
    medians: dict[str, dict[str, float]] = result["medians"]
    scenarios = [s for s in medians if medians[s] and units.get(s) != "MiB"]
    clients = result["options"]["clients"]
    x0, bar_w, bar_h = 90, 420, 16
    height = 30 + sum(len(medians[s]) * (bar_h + 3) + 18 for s in scenarios)
    d = Drawing(x0 + bar_w + 170, height, title="bench/run.py medians")
    d.text(
        x0,
        18,
        "medians; bar length relative to the best client of each scenario",
        size=11,
        fill=MUTED,
    )
    y = 30.0
    for scenario in scenarios:
        values = medians[scenario]
        best = max(values.values())
        d.text(8, y + 13, scenario, size=12, bold=True)
        for client in [c for c in clients if c in values]:
            value = values[client]
            fill = EDGE if client.startswith("rawhttp") else "#b0bec5"
            d.text(x0 - 4, y + 12, "", size=11)
            d.rect(x0, y, max(bar_w * value / best, 1), bar_h, fill=fill, rx=2)
            d.text(
                x0 + bar_w * value / best + 6,
                y + 12,
                f"{client} {value:,.0f} {units[scenario]}",
                size=11,
            )
            y += bar_h + 3
        y += 18
    return d.render()


def pictures() -> dict[str, str]:
    """Every picture's file name in docs/img and its SVG text."""
    result = {
        "errors.svg": error_tree(),
        "timeouts.svg": timeouts(),
        "phases.svg": phase_picture(),
    }
    result["bench.svg"] = bench_chart(json.loads(BENCH_JSON.read_text()))
    return result


def write_all() -> list[Path]:
    """Write every picture whose text changed; return the paths written."""
    IMG.mkdir(exist_ok=True)
    written = []
    for name, content in pictures().items():
        path = IMG / name
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            written.append(path)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path}", file=sys.stderr)
