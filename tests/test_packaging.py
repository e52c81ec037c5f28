"""The installed package's metadata is ready to publish and agrees with the tree.

Read through ``importlib.metadata`` (what pip installed, editable or from the
wheel) and compared with pyproject.toml, so a field missing from pyproject.toml, a
stale install or a Python that the suite runs on but the classifiers omit fails
here, in a second.  The full build (sdist, wheel, ``twine check --strict``, the
wheel in a fresh venv) is ``.ci/package``'s job."""

from __future__ import annotations

import importlib.metadata
import re
import subprocess
import sys
import tomllib
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

import rawhttp

ROOT = Path(__file__).resolve().parent.parent
PY_PREFIX = "Programming Language :: Python :: "


@pytest.fixture(scope="module")
def meta() -> Message:
    return importlib.metadata.metadata("rawhttp")  # type: ignore[return-value]


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]  # type: ignore[no-any-return]


def python_versions(classifiers: list[str]) -> list[tuple[int, int]]:
    """(3, minor) for each "Programming Language :: Python :: 3.X" classifier."""
    found = []
    for c in classifiers:
        m = re.fullmatch(re.escape(PY_PREFIX) + r"(\d+)\.(\d+)", c)
        if m:
            found.append((int(m[1]), int(m[2])))
    return sorted(found)


def test_project_urls(meta: Message) -> None:
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Documentation", "Source", "Changelog", "Issues"}, urls
    for label, url in urls.items():
        assert re.fullmatch(r"https://[^\s/]+/\S*", url), (label, url)


def test_license_in_metadata(meta: Message) -> None:
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    # The installed .dist-info carries the same file (PEP 639: licenses/LICENSE).
    dist = importlib.metadata.distribution("rawhttp")
    shipped = [f for f in dist.files or [] if f.as_posix().endswith(".dist-info/licenses/LICENSE")]
    assert len(shipped) == 1, dist.files
    assert shipped[0].read_text(encoding="utf-8") == text


def test_classifiers_cover_the_running_python(meta: Message) -> None:
    """.ci/run runs this suite on every CPython >= 3.11 it finds: each must be declared."""
    classifiers = meta.get_all("Classifier") or []
    versions = python_versions(classifiers)
    assert sys.version_info[:2] in versions, (sys.version_info[:2], versions)
    floor = re.fullmatch(r">=(\d+)\.(\d+)", meta["Requires-Python"])
    assert floor is not None, meta["Requires-Python"]
    assert versions[0] == (int(floor[1]), int(floor[2])), "classifiers start at requires-python"
    minors = [minor for _, minor in versions]
    assert minors == list(range(minors[0], minors[-1] + 1)), "no gap in the classifiers"
    assert {f"{PY_PREFIX}3", f"{PY_PREFIX}3 :: Only", "Typing :: Typed"} <= set(classifiers)


def test_readme_keywords_and_summary(meta: Message) -> None:
    assert meta["Description-Content-Type"] == "text/markdown"
    # The long description is README.md (compared by its title: README edits need no
    # reinstall of an editable install to keep this green).
    title = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[0]
    assert title.startswith("# ")
    assert meta.get_payload().splitlines()[0] == title  # type: ignore[union-attr]
    keywords = (meta["Keywords"] or "").split(",")
    assert {"http", "asyncio"} <= set(keywords), keywords
    assert meta["Summary"], "a one-line summary"


def test_extras(meta: Message) -> None:
    extras = set(meta.get_all("Provides-Extra") or [])
    assert {"brotli", "zstd", "truststore", "test", "docs"} <= extras, extras
    docs = [
        r.split(";")[0].strip()
        for r in meta.get_all("Requires-Dist") or []
        if r.endswith("extra == 'docs'") or r.endswith('extra == "docs"')
    ]
    names = {re.match(r"[A-Za-z0-9_.-]+(\[[^\]]*\])?", r)[0] for r in docs}  # type: ignore[index]
    assert {"mkdocs", "mkdocs-material", "mkdocstrings[python]"} <= names, docs
    assert all(">=" in r for r in docs), f"each docs requirement has a lower bound: {docs}"


def test_py_typed_shipped(meta: Message) -> None:
    """PEP 561 marker beside the installed package (.ci/package checks the wheel's RECORD)."""
    package = Path(rawhttp.__file__).resolve().parent
    assert (package / "py.typed").is_file()
    assert "Typing :: Typed" in (meta.get_all("Classifier") or [])


def test_sdist_carries_what_testing_needs() -> None:
    with open(ROOT / "pyproject.toml", "rb") as f:
        include = tomllib.load(f)["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]
    wanted = ["/rawhttp", "/tests", "/docs", "/examples", "/README.md", "/CHANGELOG.md", "/LICENSE"]
    assert set(wanted) <= set(include), include


def test_version_consistent(meta: Message) -> None:
    version = importlib.metadata.version("rawhttp")
    assert rawhttp.__version__ == version == meta["Version"]
    # A canonical public PEP 440 version (N.N.N, with an optional pre/post/dev part).
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", version), version
    run = subprocess.run(
        [sys.executable, "-m", "rawhttp", "--version"], capture_output=True, text=True, timeout=30
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(f"rawhttp {version} (Python "), run.stdout


def test_installed_metadata_is_this_tree(meta: Message, project: dict[str, Any]) -> None:
    """A stale install (pyproject.toml changed since ``pip install -e``) fails here."""
    assert meta["Name"] == project["name"]
    assert meta["Requires-Python"] == project["requires-python"]
    assert meta.get_all("Classifier") == project["classifiers"]
    assert (meta["Keywords"] or "").split(",") == sorted(project["keywords"])
    urls = [f"{label}, {url}" for label, url in project["urls"].items()]
    assert meta.get_all("Project-URL") == urls
    assert meta["License-Expression"] == project["license"]
