"""Processes for tests: real servers (tinyproxy on a free 127.0.0.1 port, nginx on a
Unix socket), the command line (``python -m rawhttp``) and scripts in a fresh
interpreter, all importing this tree's rawhttp.

Each server runs in the foreground from a configuration written to a private temporary
directory, is started with :func:`subprocess.Popen` and stopped by its PID
(SIGTERM, then SIGKILL if it lingers) when the context manager exits, however
the test ends.  When the binary is not installed the helpers call
``pytest.skip`` with the reason (``.ci/run`` installs both).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

START_TIMEOUT = 10.0
"""Seconds a server gets to start listening."""

STOP_TIMEOUT = 5.0
"""Seconds a server gets to exit after SIGTERM before it is killed."""


def find_binary(name: str, package: str, *fallbacks: str) -> str:
    """The path of ``name`` on PATH or at a fallback path; else skip the test, saying why."""
    found = shutil.which(name)
    if found:
        return found
    for path in fallbacks:
        if os.access(path, os.X_OK):
            return path
    pytest.skip(f"{name} not installed (.ci/run installs it: apt-get install {package})")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bound, then closed): a
    server may listen on it, and until one does, connecting to it is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop one process we started, by its PID: SIGTERM, then SIGKILL after a bound."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


def _tail(path: Path, limit: int = 2000) -> str:
    with contextlib.suppress(OSError):
        return path.read_text(errors="replace")[-limit:]
    return ""


def wait_until_listening(
    proc: subprocess.Popen[bytes], address: tuple[str, int] | str, log: Path
) -> None:
    """Poll until ``address`` (a TCP pair or a Unix socket path) accepts a connection.

    Bounded by START_TIMEOUT; fails the test with the server's log when the
    process exits or the time is up.
    """
    deadline = time.monotonic() + START_TIMEOUT
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    for _ in range(int(START_TIMEOUT / 0.02) + 1):
        if proc.poll() is not None:
            pytest.fail(f"{proc.args[0]} exited with {proc.returncode}:\n{_tail(log)}")
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            with contextlib.suppress(OSError):
                s.connect(address)
                return
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    pytest.fail(f"{proc.args[0]} did not listen on {address!r}:\n{_tail(log)}")


# -- tinyproxy ---------------------------------------------------------------------


@dataclass
class Tinyproxy:
    """A running tinyproxy: ``url`` is its proxy URL (with credentials when it has them)."""

    port: int
    directory: Path
    user: str | None = None
    password: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        if self.user is None:
            return f"http://{self.address}"
        return f"http://{self.user}:{self.password}@{self.address}"

    @property
    def url_without_credentials(self) -> str:
        return f"http://{self.address}"

    def log(self) -> str:
        return _tail(self.directory / "tinyproxy.log", 20000)


def tinyproxy_config(port: int, directory: Path, basic_auth: tuple[str, str] | None) -> str:
    # No ConnectPort line: tinyproxy then allows CONNECT to every port (tinyproxy.conf(5)),
    # which the tests need (their origins listen on random ports, not 443/563).
    lines = [
        "Listen 127.0.0.1",
        f"Port {port}",
        "Timeout 30",
        f'LogFile "{directory}/tinyproxy.log"',
        "LogLevel Info",
        f'PidFile "{directory}/tinyproxy.pid"',
        "MaxClients 50",
        "Allow 127.0.0.1",
        'ViaProxyName "tinyproxy"',
    ]
    if basic_auth is not None:
        lines.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def run_tinyproxy(basic_auth: tuple[str, str] | None = None) -> Iterator[Tinyproxy]:
    """Start tinyproxy in the foreground (``-d``) on a free 127.0.0.1 port; stop it by PID."""
    binary = find_binary("tinyproxy", "tinyproxy", "/usr/bin/tinyproxy", "/usr/sbin/tinyproxy")
    directory = Path(tempfile.mkdtemp(prefix="rawhttp-tinyproxy-"))
    try:
        port = free_port()
        conf = directory / "tinyproxy.conf"
        conf.write_text(tinyproxy_config(port, directory, basic_auth))
        user, password = basic_auth if basic_auth is not None else (None, None)
        proxy = Tinyproxy(port, directory, user, password)
        with open(directory / "stdout.log", "wb") as out:
            proxy.proc = subprocess.Popen(
                [binary, "-d", "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until_listening(proxy.proc, ("127.0.0.1", port), directory / "tinyproxy.log")
            yield proxy
        finally:
            stop_process(proxy.proc)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# -- nginx on a Unix domain socket ---------------------------------------------------

STATIC_BODY = b"static file served by nginx\n"


@dataclass
class NginxUnix:
    """A running nginx listening on the Unix socket ``socket_path``.

    ``/file.txt`` is a static file (STATIC_BODY); ``/conn`` answers
    ``"<connection serial> <request number on it> <host> <request_uri>\\n"``,
    so a client can see whether two requests shared a connection.
    """

    socket_path: str
    directory: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def access_log(self) -> list[str]:
        return _tail(self.directory / "access.log", 100000).splitlines()

    def error_log(self) -> str:
        return _tail(self.directory / "error.log")


def nginx_config(directory: Path, socket_path: str) -> str:
    temp = directory / "temp"
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log warn;
events {{ worker_connections 64; }}
http {{
    log_format conn '$connection $connection_requests "$request" "$http_host"';
    access_log {directory}/access.log conn;
    types {{ text/plain txt; }}
    default_type application/octet-stream;
    keepalive_timeout 30s;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen unix:{socket_path};
        server_name localhost;
        root {directory}/www;
        location = /conn {{
            default_type text/plain;
            return 200 "$connection $connection_requests $host $request_uri\\n";
        }}
    }}
}}
"""


@contextlib.contextmanager
def run_nginx_unix() -> Iterator[NginxUnix]:
    """Start nginx (one process, foreground) on a Unix socket; stop it by PID."""
    binary = find_binary("nginx", "nginx-light", "/usr/sbin/nginx")
    # A short directory under /tmp: a Unix socket path must fit in 108 bytes.
    directory = Path(tempfile.mkdtemp(prefix="rh-nginx-"))
    try:
        (directory / "temp").mkdir()
        www = directory / "www"
        www.mkdir()
        (www / "file.txt").write_bytes(STATIC_BODY)
        socket_path = str(directory / "nginx.sock")
        conf = directory / "nginx.conf"
        conf.write_text(nginx_config(directory, socket_path))
        cmd = [binary, "-c", str(conf), "-p", str(directory), "-e", str(directory / "error.log")]
        test = subprocess.run([*cmd, "-t"], capture_output=True, text=True, timeout=30)
        if test.returncode != 0:
            pytest.fail(f"nginx config test failed:\n{test.stderr}")
        server = NginxUnix(socket_path, directory)
        server.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until_listening(server.proc, socket_path, directory / "error.log")
            yield server
        finally:
            stop_process(server.proc)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# -- the command line and scripts in a fresh interpreter ---------------------------------

ROOT = Path(__file__).resolve().parent.parent
"""The work tree: its rawhttp is the one commands and scripts import."""

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
"""The proxy environment variables (each also in upper case)."""

PEAK_RSS = textwrap.dedent(
    """
    def peak_rss() -> int:
        \"\"\"This process's peak resident memory so far (VmHWM), in bytes (Linux).\"\"\"
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM")
    """
)


def child_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without the machine's proxy variables, this tree
    first on PYTHONPATH, and ``env`` added."""
    environment = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARIABLES}
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    environment["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    environment.update(env or {})
    return environment


METER = re.compile(rb"(?:\r[^\r\n]+)+\n")
"""The command's progress meter on stderr (each refresh starts with CR): as curl's, it
shows whenever the body does not go to a terminal, unless -s."""


async def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int | None, bytes, bytes]:
    """Run ``python -m rawhttp ARGS`` (bounded: 30 s, then killed) in
    :func:`child_environment`; its exit status, stdout and stderr without the
    progress meter."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rawhttp",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_environment(env),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode, out, METER.sub(b"", err)


def run_script(path: Path, source: str, *args: str, timeout: float = 120) -> Any:
    """Write ``source`` (dedented, after the ``peak_rss()`` of PEAK_RSS) to ``path`` and
    run it with ``args`` in a fresh interpreter (warnings as errors) in
    :func:`child_environment`; the ``subprocess.CompletedProcess`` (text)."""
    path.write_text(PEAK_RSS + textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, "-W", "error", str(path), *args],
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
