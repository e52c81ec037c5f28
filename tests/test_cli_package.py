"""The ``rawhttp`` command (``rawhttp/cli/``) is a client of rawhttp like any other:
it imports only names of rawhttp's public API (``rawhttp.__all__``) and its own
modules, its modules import each other without a circle, and none is long; it
chooses curl's exit code from an error's type and data, never from its message."""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterator

import pytest

import rawhttp
from rawhttp.cli._exit import CliError, exit_code

CLI_DIR = pathlib.Path(rawhttp.__file__).parent / "cli"
PUBLIC = frozenset(rawhttp.__all__)

PRIVATE_ALLOWED: set[tuple[str, str]] = set()
"""(file, attribute) pairs allowed to read a private attribute: none."""


def problems(source: str, filename: str) -> Iterator[str]:
    """What in ``source`` (a module of rawhttp/cli/) goes past rawhttp's public API."""
    tree = ast.parse(source, filename)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top != "rawhttp":
                    continue
                if alias.name != "rawhttp" and not alias.name.startswith("rawhttp.cli"):
                    yield f"{where}: import {alias.name}"
                elif alias.asname is not None:
                    yield f"{where}: import {alias.name} as {alias.asname}"
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level > 1:
                yield f"{where}: from {'.' * node.level}{module} import ..."
            elif node.level == 0 and module == "rawhttp":
                for alias in node.names:
                    if alias.name not in PUBLIC:
                        yield f"{where}: from rawhttp import {alias.name}"
            elif (
                node.level == 0
                and module.split(".")[0] == "rawhttp"
                and not (module == "rawhttp.cli" or module.startswith("rawhttp.cli."))
            ):
                yield f"{where}: from {module} import ..."
        elif isinstance(node, ast.Attribute):
            value = node.value
            if isinstance(value, ast.Name) and value.id == "rawhttp":
                if node.attr not in PUBLIC:
                    yield f"{where}: rawhttp.{node.attr}"
            elif (
                node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(value, ast.Name) and value.id in ("self", "cls"))
                and (filename, node.attr) not in PRIVATE_ALLOWED
            ):
                yield f"{where}: private attribute .{node.attr}"


def local_imports(source: str) -> set[str]:
    """The modules of rawhttp/cli/ that ``source`` imports when it is loaded (imports
    inside functions happen later and cannot make a circle at import time)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module)
            else:
                names.update(alias.name for alias in node.names)
    return names


def modules() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(CLI_DIR.glob("*.py"))}


def test_the_command_uses_only_the_public_api() -> None:
    found = modules()
    assert {"__init__.py", "_args.py", "_exit.py", "_transfer.py", "_writeout.py"} <= set(found)
    assert [p for name, source in found.items() for p in problems(source, name)] == []


def test_the_check_finds_what_goes_past_the_public_api() -> None:
    """The check above can fail: each of these lines is refused."""
    refused = [
        "from rawhttp._session import Session",
        "import rawhttp._url",
        "from .. import _proxy",
        "from rawhttp import _drain",
        "import rawhttp as r",
        "import rawhttp\nrawhttp._exceptions.NoResponse",
        "import rawhttp\nrawhttp.Response()._body",
        "def f(r):\n    return r._body.received",
    ]
    for source in refused:
        assert list(problems(source, "x.py")), source
    allowed = [
        "import rawhttp\nrawhttp.Session\nrawhttp.TLSError",
        "from rawhttp import Timeout, __version__",
        "from . import _args\nfrom ._exit import CliError\nimport rawhttp.cli._display",
        "class A:\n    def f(self):\n        return self._x, exc.__cause__",
    ]
    for source in allowed:
        assert list(problems(source, "x.py")) == [], source


def test_no_import_circle_and_short_modules() -> None:
    found = modules()
    graph = {name.removesuffix(".py"): local_imports(source) for name, source in found.items()}
    for start in graph:
        seen: set[str] = set()
        todo = list(graph[start])
        for _ in range(len(graph) ** 2):  # bounded: each module is expanded once
            if not todo:
                break
            current = todo.pop()
            assert current != start, f"{start} imports itself through {sorted(seen)}"
            if current not in seen:
                seen.add(current)
                todo.extend(graph.get(current, ()))
    for name, source in found.items():
        assert source.count("\n") <= 400, name


PROXY = "http://proxy.example:3128"


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (rawhttp.TLSError("bad", reason="certificate"), 60, "SSL certificate problem: bad"),
        (rawhttp.TLSError("bad", reason="ca_bundle"), 77, "Problem with the SSL CA cert: bad"),
        # the words of another kind of failure do not change the code
        (
            rawhttp.TLSError("certificate verification failed", reason="handshake"),
            35,
            "SSL connect error: certificate verification failed",
        ),
        (
            rawhttp.TLSError("cannot load CA bundle", reason="handshake"),
            35,
            "SSL connect error: cannot load CA bundle",
        ),
        (
            rawhttp.ConnectError("no", reason="resolve", proxy=PROXY),
            5,
            "Could not resolve proxy: no",
        ),
        (
            rawhttp.ConnectError("no", reason="refused", proxy=PROXY),
            7,
            "Failed to connect to proxy: no",
        ),
        (
            rawhttp.ConnectError("cannot connect to proxy x", reason="refused"),
            7,
            "Failed to connect: cannot connect to proxy x",
        ),
        (
            rawhttp.ConnectError("could not resolve host: h.invalid", reason="resolve"),
            6,
            "Could not resolve host: h.invalid",
        ),
        (
            rawhttp.ConnectError("could not resolve host: h"),
            7,
            "Failed to connect: could not resolve host: h",
        ),
        (rawhttp.NoResponse("closed"), 52, "Empty reply from server"),
        (
            rawhttp.IncompleteBody("cut", received=10, expected=100),
            18,
            "Transferred a partial file: cut",
        ),
        (rawhttp.ProxyError("no", status=407), 56, "CONNECT tunnel failed, response 407"),
        (rawhttp.ProxyError("garbage"), 56, "Proxy CONNECT aborted: garbage"),
        (rawhttp.ConnectTimeout("slow"), 28, "Operation timed out: slow"),
        (rawhttp.ReadTimeout("slow"), 28, "Operation timed out: slow"),
        (rawhttp.TooManyRedirects("loop"), 47, "Maximum redirects followed: loop"),
        (rawhttp.ProtocolError("odd"), 8, "Weird server reply: odd"),
        (rawhttp.WriteError("reset"), 55, "Failed sending data to the peer: reset"),
        (rawhttp.ReadError("reset"), 56, "Failure when receiving data from the peer: reset"),
        (rawhttp.DecodingError("junk"), 61, "Error while processing content unencoding: junk"),
        (rawhttp.InvalidURL("bad"), 3, "URL rejected: bad"),
        (rawhttp.InvalidRequest("bad"), 2, "bad"),
        (rawhttp.Error("other"), 8, "other"),
        (CliError(23, "Failure writing output"), 23, "Failure writing output"),
    ],
)
def test_exit_codes_come_from_the_error_data(error: BaseException, code: int, message: str) -> None:
    assert exit_code(error) == (code, message)


def test_other_exceptions_are_raised_again() -> None:
    """A bug is not disguised as one of curl's exit codes."""
    with pytest.raises(ZeroDivisionError):
        exit_code(ZeroDivisionError("bug"))
