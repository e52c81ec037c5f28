"""Smoke test of an installed rawhttp wheel, offline: run by .ci/package with the
Python of a fresh virtualenv into which only the wheel (and certifi) went, from a
directory outside the source tree.

It checks that rawhttp is imported from that venv's site-packages (not from a
checkout), that the wheel shipped py.typed and the license file, that the
``rawhttp`` console script prints the metadata's version, and that the async API,
the blocking API and the command each fetch from a local server it starts on
127.0.0.1.  Prints one line per check; exits non-zero at the first failure.

    python .ci/smoke.py /path/to/venv/bin/rawhttp
"""

from __future__ import annotations

import asyncio
import http.server
import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import rawhttp

# No proxy from the environment may stand between us and 127.0.0.1.
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
for _name in PROXY_VARS:
    os.environ.pop(_name, None)
    os.environ.pop(_name.upper(), None)

BODY = b"smoke: hello from 127.0.0.1\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._reply(200, BODY, "text/plain; charset=utf-8")

    def do_POST(self) -> None:
        got = self.rfile.read(int(self.headers["Content-Length"]))
        self._reply(201, json.dumps({"got": json.loads(got)}).encode(), "application/json")

    def _reply(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:  # keep the output clean
        pass


def check(ok: bool, what: str) -> None:
    if not ok:
        sys.exit(f"smoke: FAILED: {what}")
    print(f"smoke: ok: {what}")


def check_install() -> str:
    """rawhttp comes from this venv's site-packages, with py.typed and LICENSE."""
    version = importlib.metadata.version("rawhttp")
    check(rawhttp.__version__ == version, f"rawhttp.__version__ == metadata version {version}")
    package = Path(rawhttp.__file__).resolve().parent
    purelib = Path(sysconfig.get_paths()["purelib"]).resolve()
    check(package.parent == purelib, f"rawhttp imported from the venv ({package})")
    check((package / "py.typed").is_file(), "py.typed installed")
    files = {str(f) for f in importlib.metadata.files("rawhttp") or []}
    check("rawhttp/py.typed" in files, "py.typed listed in the wheel's RECORD")
    licenses = [f for f in files if f.endswith(".dist-info/licenses/LICENSE")]
    check(len(licenses) == 1, "LICENSE shipped in the wheel's .dist-info/licenses/")
    return version


def check_command(command: str, version: str, url: str) -> None:
    """The console script prints the version and fetches like curl -s."""
    run = subprocess.run(
        [command, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    first = run.stdout.splitlines()[0] if run.stdout else ""
    check(
        run.returncode == 0 and first.startswith(f"rawhttp {version} "),
        f"`rawhttp --version` says {first!r}",
    )
    fetch = subprocess.run([command, "-sS", url], capture_output=True, timeout=30, check=False)
    check(fetch.returncode == 0 and fetch.stdout == BODY, f"`rawhttp -sS {url}` printed the body")


async def check_async(url: str) -> None:
    async with rawhttp.Session(timeout=10.0) as session:
        r = await session.get(url)
        check(r.status == 200 and r.content == BODY, "Session.get: 200 and the body")
        r = await session.post(url, json={"n": 1})
        check(r.status == 201 and r.json() == {"got": {"n": 1}}, "Session.post json= echoed")


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: smoke.py PATH_TO_rawhttp_COMMAND")
    version = check_install()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/smoke"
    try:
        asyncio.run(check_async(url))
        r = rawhttp.get(url, timeout=10.0)
        check(r.status == 200 and r.content == BODY, "rawhttp.get (blocking): 200 and the body")
        check_command(sys.argv[1], version, url)
    finally:
        server.shutdown()
        server.server_close()
    print(f"smoke: rawhttp {version} wheel passed")


if __name__ == "__main__":
    main()
