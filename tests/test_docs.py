"""The documentation site (docs/, built by mkdocs): every public name has its
reference entry, the generated pictures and tables are current and complete, the
exit-code table matches the command's codes, and every code block marked runnable
runs against a local server.

A runnable block is a ```python block right after a ``<!-- runnable -->`` line.  It
runs in its own interpreter (bounded by RUN_TIMEOUT) with ``http://127.0.0.1:8080``
replaced by the URL of a pytest-httpserver answering the paths the docs use
(:func:`docs_app`); it must exit 0 with nothing on stderr.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from servers import child_environment
from werkzeug import Request, Response

import rawhttp
from rawhttp import _exceptions
from rawhttp.cli import _exit, _options, _transfer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS / "scripts"))

import hooks  # noqa: E402
import pictures  # noqa: E402
import tables  # noqa: E402

DOC_BASE = "http://127.0.0.1:8080"
RUN_TIMEOUT = 30.0
MARK = "<!-- runnable -->"


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def runnable_blocks() -> list[Any]:
    """Every marked block, as a pytest param named page:line."""
    found = []
    for page in pages():
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip() != MARK:
                continue
            assert lines[i + 1].startswith("```python"), f"{page.name}:{i + 1}: no python block"
            end = lines.index("```", i + 2)
            code = "\n".join(lines[i + 2 : end]) + "\n"
            found.append(pytest.param(code, id=f"{page.name}:{i + 2}"))
    return found


# -- the reference -------------------------------------------------------------------------


def reference_source() -> str:
    """docs/reference.md with its generated blocks expanded, as mkdocs builds it."""
    return hooks.expand((DOCS / "reference.md").read_text())


@pytest.mark.parametrize("name", rawhttp.__all__)
def test_every_public_name_is_in_the_reference(name: str) -> None:
    source = reference_source()
    assert f"::: rawhttp.{name}\n" in source or f"### `rawhttp.{name}`\n" in source, name


def test_generated_reference_entries_have_signature_and_docstring() -> None:
    names = tables.dynamic_functions()
    assert set(names) == {"get", "head", "options", "delete", "post", "put", "patch"}
    text = tables.one_shot_functions()
    for name in names:
        entry = text.split(f"### `rawhttp.{name}`")[1].split("### ")[0]
        assert f"def {name}(\n    url: str," in entry
        assert "    timeout: Timeout | float | None" in entry
        assert getattr(rawhttp, name).__doc__.split("(")[0] in entry


def test_reference_entries_resolve_to_the_public_objects() -> None:
    # each ::: identifier names rawhttp.X for a name of __all__ (no stale entry)
    identifiers = re.findall(r"^::: (\S+)$", reference_source(), re.M)
    assert len(identifiers) == len(set(identifiers))
    for identifier in identifiers:
        module, _, name = identifier.rpartition(".")
        assert module == "rawhttp", identifier
        assert name in rawhttp.__all__, identifier


def test_nav_lists_every_page() -> None:
    config = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s+([\w-]+\.md)$", config, re.M))
    assert listed == {p.name for p in pages()}


# -- generated pictures and tables --------------------------------------------------------


@pytest.mark.parametrize("name", ["errors.svg", "timeouts.svg", "phases.svg", "bench.svg"])
def test_pictures_are_current(name: str) -> None:
    # `python docs/scripts/pictures.py` rewrites them; mkdocs' hook does so before a build
    assert (DOCS / "img" / name).read_text() == pictures.pictures()[name], (
        f"docs/img/{name} is stale: run python docs/scripts/pictures.py"
    )


def test_error_tree_shows_every_public_exception() -> None:
    svg = pictures.error_tree()
    errors = [
        n
        for n in rawhttp.__all__
        if isinstance(getattr(rawhttp, n), type) and issubclass(getattr(rawhttp, n), rawhttp.Error)
    ]
    assert len(errors) >= 23
    for name in errors:
        assert f">{name}</text>" in svg, name
    assert "also builtins.TimeoutError" in svg
    assert ".rule" in svg
    assert ".reason  .scheme" in svg


def test_timeout_picture_covers_every_timeout_field() -> None:
    svg = pictures.timeouts()
    assert [n for n, _ in pictures.phases()] == [
        "pool",
        "connect",
        "tls",
        "send",
        "wait",
        "receive",
    ]
    for field in rawhttp.Timeout.__slots__:
        assert f">Timeout.{field}</text>" in svg, field


def test_bench_chart_and_table_come_from_the_json() -> None:
    result = json.loads(pictures.BENCH_JSON.read_text())
    svg, table = pictures.bench_chart(result), tables.bench_table(result)
    for scenario, values in result["medians"].items():
        assert f"| `{scenario}` |" in table
        for client, value in values.items():
            assert f"{client} {value:,.0f}" in svg
            assert f"{value:,.0f}" in table


def test_cli_option_table_lists_every_option() -> None:
    text = tables.cli_options()
    for option in _options.OPTIONS:
        assert f"`--{option.long}`" in text, option.long
        if option.short:
            assert f"`-{option.short}`, `--{option.long}`" in text
    assert text.count("\n| `-") == len(_options.OPTIONS)


def test_protocol_rule_table_lists_every_rule() -> None:
    text = tables.protocol_rules()
    for rule in typing.get_args(_exceptions.ProtocolRule):
        assert f'| `"{rule}"` |' in text, rule
    assert "[7.1](https://www.rfc-editor.org/rfc/rfc9112#section-7.1)" in text


def test_pages_use_only_known_generated_blocks() -> None:
    for page in pages():
        hooks.expand(page.read_text())  # raises on an unknown <!-- generated: ... -->
    assert "<!-- generated: cli-options -->" in (DOCS / "cli.md").read_text()
    assert "<!-- generated: protocol-rules -->" in (DOCS / "strictness.md").read_text()
    assert "<!-- generated: bench-table -->" in (DOCS / "performance.md").read_text()


def test_exit_code_table_matches_the_command() -> None:
    codes = {
        value
        for module in (_exit, _transfer)
        for name, value in vars(module).items()
        if name.startswith("EXIT_") and isinstance(value, int)
    }
    text = (DOCS / "cli.md").read_text()
    table = text.split("| exit | when |")[1].split("\n\n")[0]
    documented = set()
    for cell in re.findall(r"^\| ([\d /]+) \|", table, re.M):
        documented |= {int(c) for c in cell.split("/")}
    assert documented == codes


def test_every_picture_is_shown_on_a_page() -> None:
    text = "".join(p.read_text() for p in pages())
    for name in pictures.pictures():
        assert f"img/{name})" in text, name


# -- runnable blocks ------------------------------------------------------------------------


def docs_app(request: Request) -> Response:
    """What the docs' examples talk to: a few fixed paths, and an echo of the request
    (method, path, query, form, files, JSON, cookies and some headers) for the rest."""
    path = request.path
    if path == "/old":
        return Response(status=301, headers={"Location": "/new"})
    if path == "/events":
        body = "".join(f"data: event {i}\n\n" for i in range(3))
        return Response(body, content_type="text/event-stream")
    if path == "/big":
        return Response(b"x" * 1_000_000, content_type="application/octet-stream")
    if path == "/flaky":
        return Response("busy", status=503, headers={"Retry-After": "0"})
    if path.startswith("/status/"):
        return Response(status=int(path.rsplit("/", 1)[1]))
    response = Response(
        json.dumps(
            {
                "method": request.method,
                "path": path,
                "query": request.query_string.decode(),
                "form": request.form.to_dict(flat=False),
                "files": {k: f.filename for k, f in request.files.items()},
                "json": request.get_json(silent=True),
                "cookies": dict(request.cookies),
                "authorization": request.headers.get("Authorization"),
                "user_agent": request.headers.get("User-Agent"),
            }
        ),
        content_type="application/json",
    )
    if path == "/login":
        response.set_cookie("session", "s3cr3t", path="/")
    return response


BLOCKS = runnable_blocks()


def test_docs_have_runnable_blocks_on_the_main_pages() -> None:
    ids = {p.id.split(":")[0] for p in BLOCKS}
    assert len(BLOCKS) >= 15
    for page in [
        "quickstart.md",
        "sessions.md",
        "requests.md",
        "responses.md",
        "redirects.md",
        "retries.md",
        "tracing.md",
        "blocking.md",
        "errors.md",
    ]:
        assert page in ids, page


def run_block(code: str, base: str, directory: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the docs' base URL replaced by ``base``, in a fresh interpreter
    (dev mode, warnings as errors) in ``directory``, bounded by RUN_TIMEOUT."""
    script = directory / "block.py"
    script.write_text(code.replace(DOC_BASE, base))
    return subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", str(script)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        env=child_environment(),
    )


@pytest.mark.parametrize("code", BLOCKS)
def test_runnable_block(code: str, httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_handler(docs_app)
    result = run_block(code, httpserver.url_for("/").rstrip("/"), tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(httpserver.log) >= 1, "the block sent no request"


def test_a_failing_block_fails(httpserver: HTTPServer, tmp_path: Path) -> None:
    # the runner sees a block's failure: a wrong expectation exits non-zero
    httpserver.expect_request(re.compile(".*")).respond_with_handler(docs_app)
    code = f"import rawhttp\nassert rawhttp.get('{DOC_BASE}/status/404').status == 200\n"
    result = run_block(code, httpserver.url_for("/").rstrip("/"), tmp_path)
    assert result.returncode == 1
    assert "AssertionError" in result.stderr
    assert len(httpserver.log) == 1
