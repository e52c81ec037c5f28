"""The package stays mypy-strict and ruff clean (both are in the `test` extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=240
    )


def test_mypy_strict() -> None:
    result = run("mypy", "--strict", "rawhttp")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_lint() -> None:
    result = run("ruff", "check", "rawhttp", "tests", "examples")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", "rawhttp", "examples")
    assert result.returncode == 0, result.stdout + result.stderr
