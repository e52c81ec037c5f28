"""mkdocs hooks: before each build, rewrite the generated pictures (docs/img/) from
the code; in each page, replace a ``<!-- generated: NAME -->`` line with the table
``tables.NAME`` makes, so that generated content cannot drift from the code."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import pictures  # noqa: E402
import tables  # noqa: E402

MARK = "<!-- generated: {} -->"


def generated() -> dict[str, str]:
    """Each generated block's name and its Markdown."""
    bench = json.loads(pictures.BENCH_JSON.read_text())
    return {
        "cli-options": tables.cli_options(),
        "protocol-rules": tables.protocol_rules(),
        "bench-table": tables.bench_table(bench),
        "one-shot-functions": tables.one_shot_functions(),
    }


def expand(markdown: str) -> str:
    """``markdown`` with every generated mark replaced by its block."""
    for name, block in generated().items():
        markdown = markdown.replace(MARK.format(name), block)
    if "<!-- generated: " in markdown:
        raise ValueError("a page names a generated block that does not exist")
    return markdown


SPHINX_ROLE = re.compile(r":(?:class|meth|attr|func|mod|exc|data|obj):(?=<code>)")


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    """Docstrings use Sphinx roles (``:class:`Timeout```); the Markdown renderer
    leaves ``:class:`` before the code span: drop it."""
    return SPHINX_ROLE.sub("", html)


def on_pre_build(config: Any) -> None:
    pictures.write_all()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return expand(markdown)
