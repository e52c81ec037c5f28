"""The examples in examples/ run offline and print what the README says they do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_fetch_local_example() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "fetch_local.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "HTTP/1.1 200 OK | text/plain; charset=utf-8 | Hello, world!"
    assert "connections=1/100 idle=1" in lines[1]
    assert lines[2] == "streamed: chunks and trailers | trailers: [('X-Checksum', '42')]"
    assert lines[3] == "201 {'you_sent': {'hello': 'rawhttp'}}"
    assert lines[4].startswith("HTTPStatusError: 404 Not Found")
    assert lines[5] == "ProtocolError: conflicting Content-Length values: ['5', '6']"


def test_blocking_script_example() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "blocking_script.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        "200 {'path': '/hello?q=a+b'}",
        "{'got': 'name=rawhttp'}",
        "redirected: [301] -> /new",
        "decoded gzip: 9000 bytes",
        "downloaded: 1048576 bytes",
        "ConnectError: ConnectError",
    ]
