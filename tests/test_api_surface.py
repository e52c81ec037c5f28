"""The public API's shape: every request method takes the one set of request options
(rawhttp.RequestOptions) as explicit keywords that help(), inspect and mypy see;
an unknown keyword is a TypeError; help() shows no private method."""

from __future__ import annotations

import inspect
import pydoc
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rawhttp

REQUEST_KEYS = list(rawhttp.RequestOptions.__annotations__)
ONE_SHOT_KEYS = list(rawhttp.OneShotOptions.__annotations__)
ROOT = Path(__file__).resolve().parent.parent

VERBS = ["get", "head", "options", "delete", "post", "put", "patch"]


def keywords(function: object) -> list[str]:
    return [
        p.name
        for p in inspect.signature(function).parameters.values()  # type: ignore[arg-type]
        if p.kind is p.KEYWORD_ONLY
    ]


def test_the_options_are_the_documented_ones() -> None:
    assert REQUEST_KEYS == [
        "params",
        "headers",
        "content",
        "data",
        "json",
        "files",
        "auth",
        "cookies",
        "retries",
        "timeout",
        "follow_redirects",
        "trace",
        "on_informational",
        "expect_continue",
    ]
    assert ONE_SHOT_KEYS[: len(REQUEST_KEYS)] == REQUEST_KEYS
    for key in REQUEST_KEYS:  # each one documented in the TypedDict's docstring
        assert f"``{key}``" in (rawhttp.RequestOptions.__doc__ or ""), key


@pytest.mark.parametrize("name", ["request", "stream", *VERBS])
@pytest.mark.parametrize("owner", [rawhttp.Session, rawhttp.SyncSession])
def test_request_methods_show_every_option(owner: type, name: str) -> None:
    method = getattr(owner, name)
    assert keywords(method) == REQUEST_KEYS
    assert all(
        p.default is None
        for p in inspect.signature(method).parameters.values()
        if p.kind is p.KEYWORD_ONLY
    )
    assert method.__doc__
    if name in VERBS:
        assert method.__name__ == name
        assert name.upper() in method.__doc__


@pytest.mark.parametrize("name", ["request", *VERBS])
def test_one_shot_functions_show_every_option_with_session_defaults(name: str) -> None:
    function = getattr(rawhttp, name)
    assert keywords(function) == ONE_SHOT_KEYS
    parameters = inspect.signature(function).parameters
    assert parameters["verify"].default is True  # the Session's default, not None
    assert parameters["max_redirects"].default == 20
    assert parameters["trust_env"].default is True


def test_sync_session_takes_the_session_options() -> None:
    assert inspect.signature(rawhttp.SyncSession) == inspect.signature(rawhttp.Session)


async def test_unknown_keywords_are_type_errors() -> None:
    async with rawhttp.Session() as s:
        with pytest.raises(TypeError, match="timeot"):
            await s.get("http://127.0.0.1:9/", timeot=1)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="timeot"):
            async with s.stream("GET", "http://127.0.0.1:9/", timeot=1):  # type: ignore[call-arg]
                pass


def test_unknown_keywords_are_type_errors_in_the_blocking_api() -> None:
    with rawhttp.SyncSession() as s, pytest.raises(TypeError, match="timeot"):
        s.get("http://127.0.0.1:9/", timeot=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="verif"):
        rawhttp.get("http://127.0.0.1:9/", verif=False)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="verif"):
        rawhttp.SyncSession(verif=False)  # type: ignore[call-arg]


def test_help_shows_no_private_method() -> None:
    for cls in (rawhttp.Session, rawhttp.SyncSession, rawhttp.Response):
        text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
        private = re.findall(r"^ \|  (_[a-z]\w*)\(", text, re.MULTILINE)
        assert private == [], (cls.__name__, private)
        # (3.13 writes a long signature one parameter per line)
        flat = re.sub(r"\n \|\s+", " ", text).replace("( ", "(").replace(", )", ")")
        assert re.search(r"(async )?get\(self, url: 'str', \*, params", flat) or (
            cls is rawhttp.Response
        )


def test_mypy_catches_a_wrong_keyword(tmp_path: Path) -> None:
    """The typed options are checked statically too, on every kind of request method."""
    snippet = tmp_path / "uses_rawhttp.py"
    snippet.write_text(
        textwrap.dedent(
            """
            import rawhttp

            async def main() -> None:
                async with rawhttp.Session(timeout=1.0) as s:
                    await s.get("http://x/", timeot=1)
                    await s.request("GET", "http://x/", folow_redirects=True)
                with rawhttp.SyncSession(verif=False) as b:
                    b.post("http://x/", jsno={})
                rawhttp.get("http://x/", trust_envv=False)
                ok = rawhttp.get("http://x/", verify=False, params={"a": "b"})
                reveal_type(ok)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = result.stdout
    for wrong in ("timeot", "folow_redirects", "verif", "jsno", "trust_envv"):
        assert f'Unexpected keyword argument "{wrong}"' in out, out
    assert 'Revealed type is "rawhttp._response.Response"' in out, out
    assert out.count("error:") == 5, out
