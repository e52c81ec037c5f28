"""The documentation's generated tables, written as Markdown from the code (and the
benchmark's JSON) so that they cannot drift from it:

- ``cli_options()``: every option of the ``rawhttp`` command, from
  ``rawhttp/cli/_options.py`` (``OPTIONS``, grouped by the table's section comments);
- ``protocol_rules()``: every ``ProtocolError.rule`` with what it refuses and its
  RFC 9112 section, from the table in ``ProtocolError``'s docstring;
- ``bench_table(result)``: the medians and rawhttp/peer ratios of a ``bench/run.py``
  result file.

The mkdocs hook puts each in place of a ``<!-- generated: NAME -->`` line.
"""

from __future__ import annotations

import inspect
import re
import typing
from typing import Any

from rawhttp import ProtocolError, _exceptions
from rawhttp.cli import _options

RFC9112 = "https://www.rfc-editor.org/rfc/rfc9112"


def option_sections() -> list[tuple[str, list[_options.Option]]]:
    """OPTIONS grouped under the ``# -- title ---`` comments of its source, in order;
    every option appears exactly once."""
    source = inspect.getsource(_options)
    table = source[source.index("OPTIONS: tuple") :]
    by_long = {o.long: o for o in _options.OPTIONS}
    sections: list[tuple[str, list[_options.Option]]] = []
    for match in re.finditer(r'# -- (.+?) -{3,}|Option\(\s*"([^"]+)"', table):
        if match.group(1):
            sections.append((match.group(1), []))
        elif match.group(2) in by_long:
            if not sections:
                sections.append(("options", []))
            sections[-1][1].append(by_long[match.group(2)])
    listed = [o.long for _, group in sections for o in group]
    if sorted(listed) != sorted(by_long):
        raise ValueError(f"options not found in the source: {set(by_long) - set(listed)}")
    return sections


def option_names(o: _options.Option) -> str:
    names = ([f"-{o.short}"] if o.short else []) + [f"--{o.long}"]
    text = ", ".join(f"`{n}`" for n in names)
    return f"{text} `{o.metavar}`" if o.metavar else text


def option_notes(o: _options.Option) -> str:
    kind = _options.Kind
    notes = {
        kind.FLAG: f"switch (`--no-{o.long}` turns it off)",
        kind.VALUE: "the last one wins",
        kind.LIST: "repeatable",
        kind.TAGGED: "repeatable, kept in command-line order",
        kind.OUTPUT: "one per URL, in order",
        kind.SPECIAL: "",
    }[o.kind]
    if o.is_global:
        notes = f"{notes}; global (all operations)" if notes else "global (all operations)"
    return notes


def cli_options() -> str:
    lines = []
    for title, group in option_sections():
        lines += [
            f"### {title[0].upper()}{title[1:]}",
            "",
            "| option | what it does | kind |",
            "|---|---|---|",
        ]
        for o in group:
            help_text = o.help.replace("|", "\\|")
            lines.append(f"| {option_names(o)} | {help_text} | {option_notes(o)} |")
        lines.append("")
    return "\n".join(lines)


def protocol_rule_rows() -> list[tuple[str, str]]:
    """``(rule, description)`` from the table in ProtocolError's docstring; every
    value of ``ProtocolRule`` must be there."""
    doc = inspect.getdoc(ProtocolError) or ""
    table = doc.split("\n=")[1:]
    body = "\n".join(table).split("\n", 1)[1]
    rows: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("="):
            break
        match = re.match(r'``"([\w-]+)"``\s+(.*)', line)
        if match:
            rows.append((match.group(1), [match.group(2)]))
        elif rows:
            rows[-1][1].append(line.strip())
    result = [(rule, " ".join(parts)) for rule, parts in rows]
    expected = set(typing.get_args(_exceptions.ProtocolRule))
    if {rule for rule, _ in result} != expected:
        raise ValueError(f"ProtocolError's table and ProtocolRule differ: {expected}")
    return result


def rst_to_md(text: str) -> str:
    text = re.sub(r":class:`(\w+)`", r"`\1`", text)
    return text.replace("``", "`")


def split_sections(text: str) -> tuple[str, list[str]]:
    """A description without its trailing RFC section numbers, and those numbers:
    ``"... (``ICY 200 OK``; 4)"`` gives the text with ``(``ICY 200 OK``)`` and ``["4"]``."""
    match = re.search(r"\(([^()]*)\)$", text)
    if not match:
        return text, []
    kept, sections = [], []
    for piece in match.group(1).split(";"):
        words = [n.strip() for n in piece.split(",")]
        sections += [n for n in words if re.fullmatch(r"\d+(\.\d+)*", n)]
        other = [n for n in words if not re.fullmatch(r"\d+(\.\d+)*", n)]
        if other:
            kept.append(", ".join(other))
    if not sections:
        return text, []
    head = text[: match.start()].rstrip()
    return (f"{head} ({'; '.join(kept)})" if kept else head), sections


def protocol_rules() -> str:
    lines = ["| `rule` | what is refused | RFC 9112 |", "|---|---|---|"]
    for rule, text in protocol_rule_rows():
        text, sections = split_sections(text)
        links = ", ".join(f"[{n}]({RFC9112}#section-{n})" for n in sections)
        lines.append(f'| `"{rule}"` | {rst_to_md(text)} | {links} |')
    return "\n".join(lines)


def bench_table(result: dict[str, Any]) -> str:
    """Medians per scenario and client, then rawhttp/peer ratios."""
    medians: dict[str, dict[str, float]] = result["medians"]
    clients = [c for c in result["options"]["clients"]]
    units = {name: spec.get("unit", "") for name, spec in result["scenarios"].items()}
    lines = [
        "| scenario | unit | " + " | ".join(clients) + " |",
        "|---|---|" + "---:|" * len(clients),
    ]
    for scenario, values in medians.items():
        cells = [f"{values[c]:,.0f}" if c in values else "" for c in clients]
        lines.append(f"| `{scenario}` | {units.get(scenario, '')} | " + " | ".join(cells) + " |")
    ratios: dict[str, dict[str, float | None]] = result.get("ratios_rawhttp_over_peer", {})
    peers = [c for c in clients if c != "rawhttp" and any(c in r for r in ratios.values())]
    if peers:
        lines += [
            "",
            "| scenario | " + " | ".join(f"rawhttp/{p}" for p in peers) + " |",
            "|---|" + "---:|" * len(peers),
        ]
        for scenario, row in ratios.items():
            cells = ["n/a" if row.get(p) is None else f"{row[p]:.2f}" for p in peers]
            lines.append(f"| `{scenario}` | " + " | ".join(cells) + " |")
    machine = result.get("machine", {})
    packages = machine.get("packages", {})
    versions = ", ".join(f"{k} {v}" for k, v in packages.items())
    lines += [
        "",
        f"Measured {result.get('started', '?')[:10]} on {machine.get('nproc', '?')} "
        f"cores ({machine.get('cpu', '?')}), Python {machine.get('python', '?').split()[0]}, "
        f"{versions}; command: `{' '.join(result.get('command', []))}`.",
    ]
    return "\n".join(lines)


def dynamic_functions() -> list[str]:
    """Public functions made at run time (the one-shot verbs, built by
    ``_options.one_shot``): mkdocstrings cannot find them where ``__module__`` says."""
    import importlib

    import rawhttp

    names = []
    for name in rawhttp.__all__:
        value = getattr(rawhttp, name)
        module = importlib.import_module(getattr(value, "__module__", "rawhttp"))
        if callable(value) and getattr(module, name, None) is not value:
            names.append(name)
    return names


def one_shot_functions() -> str:
    """A reference entry (heading, signature, docstring) for each dynamic function."""
    import rawhttp

    lines = []
    for name in dynamic_functions():
        function = getattr(rawhttp, name)
        signature = inspect.signature(function)
        params = []
        star = False
        for p in signature.parameters.values():
            if p.kind is p.KEYWORD_ONLY and not star:
                params.append("*")
                star = True
            params.append(str(p).replace("'", ""))
        result = str(signature.return_annotation).replace("'", "")
        lines += [
            f"### `rawhttp.{name}`",
            "",
            "```python",
            f"def {name}(",
            *[f"    {p}," for p in params],
            f") -> {result}",
            "```",
            "",
            rst_to_md(re.sub(r":meth:`([\w.]+)`", r"`\1`", inspect.getdoc(function) or "")),
            "",
        ]
    return "\n".join(lines)
