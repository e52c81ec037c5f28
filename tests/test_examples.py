"""The examples in examples/ run offline and print exactly what the README says
they do: fetching, the blocking API, tracing, timings, 1xx responses, proxies, Unix
sockets and connection options."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_example(name: str) -> list[str]:
    """Run examples/<name> in a subprocess: it must succeed, silently on stderr."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_fetch_local_example() -> None:
    lines = run_example("fetch_local.py")
    assert lines[0] == "HTTP/1.1 200 OK | text/plain; charset=utf-8 | Hello, world!"
    assert "connections=1/100 idle=1" in lines[1]
    assert lines[2] == "streamed: chunks and trailers | trailers: [('X-Checksum', '42')]"
    assert lines[3] == "201 {'you_sent': {'hello': 'rawhttp'}}"
    assert lines[4].startswith("HTTPStatusError: 404 Not Found")
    assert lines[5] == "ProtocolError: conflicting Content-Length values: ['5', '6']"


def test_blocking_script_example() -> None:
    assert run_example("blocking_script.py") == [
        "200 {'path': '/hello?q=a+b'}",
        "{'got': 'name=rawhttp'}",
        "redirected: [301] -> /new",
        "decoded gzip: 9000 bytes",
        "downloaded: 1048576 bytes",
        "ConnectError: ConnectError",
    ]


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


def test_trace_and_replay_example() -> None:
    assert run_example("trace_and_replay.py") == [
        "recorded kinds: connect, send, receive",
        "recorded request line: GET /report HTTP/1.1",
        "recorded 125 bytes received, exactly as sent: True",
        "live: 200 [('Content-Type', 'text/plain'), ('Transfer-Encoding', 'chunked')]"
        " b'record and replay' [('X-Checksum', '7')]",
        "replayed: 200 [('Content-Type', 'text/plain'), ('Transfer-Encoding', 'chunked')]"
        " b'record and replay' [('X-Checksum', '7')]",
        "replay equals the live response: True",
        "per-request trace: connect events: 0",
        "per-request trace: received 125 bytes",
        "per-request trace: sent bytes == timings.bytes_sent: True",
    ]


def test_timings_example() -> None:
    assert run_example("timings.py") == [
        "GET /first: new connection, phases > 0: connect send wait receive, tls=0.0",
        "  bytes_sent == server read, bytes_received 43 == server wrote",
        "GET /chunked: reused connection, phases > 0: send wait receive, tls=0.0",
        "  bytes_sent == server read, bytes_received 62 == server wrote",
        "GET /last: reused connection, phases > 0: send wait receive, tls=0.0",
        "  bytes_sent == server read, bytes_received 62 == server wrote",
        "GET /again: new connection, phases > 0: connect send wait receive, tls=0.0",
        "  bytes_sent == server read, bytes_received 43 == server wrote",
        "GET /slow: wait is the longest phase: True",
        "GET /slow: wait is most of the total: True",
        "first_byte ~= pool + connect + tls + send + wait: True",
    ]


def test_expect_and_hints_example() -> None:
    assert run_example("expect_and_hints.py") == [
        "interim: 103 Early Hints"
        " ['</style.css>; rel=preload; as=style', '</app.js>; rel=preload; as=script']",
        "final: 200 OK page",
        "refused upload: 413 Content Too Large",
        "  client sent only the head: True",
        "accepted upload: 201 Created stored 2097152 bytes",
        "  client sent the body too: True",
        "server, refuse: expect: True",
        "server, refuse: body bytes read: 0",
        "server, accept: expect: True",
    ]


def test_proxy_example() -> None:
    assert run_example("proxy.py") == [
        "via proxy: 200 hello",
        "  proxy saw absolute form: True",
        "  origin saw: GET /hello HTTP/1.1",
        "  Proxy-Authorization reached the origin: False",
        "wrong password, http URL: 407 Proxy Authentication Required",
        "wrong password, https URL: ProxyError, status 407",
        "  message: proxy http://PROXY (CONNECT ORIGIN) refused the tunnel:"
        " 407 Proxy Authentication Required",
        "right password, https URL: tunnel: True",
        "  the TLS handshake reached the origin: True",
        "no_proxy=127.0.0.1: 200 hello | proxy used: False",
    ]


@pytest.mark.skipif(sys.platform == "win32", reason="Unix domain sockets")
def test_unix_socket_example() -> None:
    assert run_example("unix_socket.py") == [
        "GET http://localhost/info -> 200 OK",
        "  server saw: GET /info HTTP/1.1 | Host: localhost",
        "GET http://api.internal/v1/items?limit=2 -> 200 OK",
        "  server saw: GET /v1/items?limit=2 HTTP/1.1 | Host: api.internal",
    ]


def test_connect_options_example() -> None:
    if has_ipv6_loopback():
        ipv6 = [
            "IPv6 literal: server saw the client at ::1",
            "IPv6 literal: Host header in brackets: True",
        ]
    else:
        ipv6 = ["IPv6 literal: skipped, this machine has no ::1"]
    assert run_example("connect_options.py") == [
        "local_address=127.0.0.1: server saw the client at 127.0.0.1",
        *ipv6,
        "localhost, server on 127.0.0.1 only: 200 from 127.0.0.1",
        "localhost: Host header keeps the name: True",
    ]
