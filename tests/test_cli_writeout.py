"""``rawhttp -w/--write-out``: the formatter on plain data, then the command end to end
(against raw loopback servers, as in test_cli.py); also -X and --post301/302/303 with
-L, and -x/--noproxy, whose effects -w helps to show."""

from __future__ import annotations

import asyncio
import gzip
import pathlib
import re
import subprocess
import sys

import pytest
import trustme
from conftest import RawConnection, RawServer, read_message, refused_port
from test_cli import (
    NO_DNS,
    Handler,
    MakeServer,
    answer,
    assert_error,
    cli,
    response,
    routes,
    tls_context,
)

import rawhttp
from rawhttp.cli._writeout import VARIABLES, format_seconds, write_out


@pytest.fixture(scope="module", autouse=True)
def compiled_package() -> None:
    """.pyc files for rawhttp, as an installed package has (see test_cli.py)."""
    package = pathlib.Path(rawhttp.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True)


# -- the formatter ------------------------------------------------------------------------


def test_plain_text_and_escapes() -> None:
    assert write_out("plain text", {}) == ("plain text", [])
    assert write_out(r"a\nb\rc\td", {}) == ("a\nb\rc\td", [])
    # like curl: only \n, \r and \t; a backslash before anything else stays, both
    # characters written (so "\\" is two backslashes and "\\n" no newline)
    assert write_out(r"\\ \x \%", {}) == (r"\\ \x \%", [])
    assert write_out("\\\\n", {}) == ("\\\\n", [])
    assert write_out("end\\", {}) == ("end\\", [])


def test_percent_signs() -> None:
    assert write_out("100%% sure %%{http_code}", {"http_code": 200}) == (
        "100% sure %{http_code}",
        [],
    )
    # a % before anything else is written as it is, also at the end
    assert write_out("%d %s 50%", {}) == ("%d %s 50%", [])
    # an unclosed %{ is text, and what follows is read on
    assert write_out("%{http_code %%", {"http_code": 200}) == ("%{http_code %", [])


def test_variables_are_substituted() -> None:
    values = {"http_code": 200, "url_effective": "http://h/x", "size_download": 12}
    text, warnings = write_out("%{http_code} %{url_effective}\\n%{size_download}", values)
    assert (text, warnings) == ("200 http://h/x\n12", [])


def test_unknown_variables_warn_and_write_nothing() -> None:
    text, warnings = write_out("[%{nope}][%{}][%{http_code}]", {"http_code": 404})
    assert text == "[][][404]"
    assert warnings == [
        "unknown --write-out variable: 'nope'",
        "unknown --write-out variable: ''",
    ]
    # names are case-sensitive, as in curl
    assert write_out("%{HTTP_CODE}", {"http_code": 1})[1] == [
        "unknown --write-out variable: 'HTTP_CODE'"
    ]


def test_known_variables_without_a_value_write_nothing() -> None:
    assert write_out("[%{content_type}][%{redirect_url}]", {}) == ("[][]", [])


def test_status_codes_have_three_digits() -> None:
    for value, shown in ((0, "000"), (200, "200"), (99, "099")):
        assert write_out(
            "%{http_code}|%{response_code}", {"http_code": value, "response_code": value}
        ) == (
            f"{shown}|{shown}",
            [],
        )


def test_times_have_six_decimals() -> None:
    assert format_seconds(0) == "0.000000"
    assert format_seconds(1.5) == "1.500000"
    assert format_seconds(12.3456789) == "12.345678"  # whole microseconds, not rounded up
    assert format_seconds(0.0000004) == "0.000000"
    assert format_seconds(-0.5) == "0.000000"
    assert format_seconds(3600.25) == "3600.250000"
    names = sorted(name for name in VARIABLES if name.startswith("time_"))
    assert names == [
        "time_appconnect",
        "time_connect",
        "time_pretransfer",
        "time_redirect",
        "time_starttransfer",
        "time_total",
    ]
    fmt = " ".join(f"%{{{name}}}" for name in names)
    text, _ = write_out(fmt, dict.fromkeys(names, 0.25))
    assert text == " ".join(["0.250000"] * len(names))


def test_every_variable() -> None:
    values: dict[str, str | int | float] = {
        "content_type": "text/html; charset=utf-8",
        "errormsg": "Failed to connect",
        "exitcode": 7,
        "filename_effective": "out.bin",
        "header_json": '{"a":["1"]\n}',
        "http_code": 301,
        "http_version": "1.1",
        "local_ip": "::1",
        "local_port": 40000,
        "method": "POST",
        "num_connects": 2,
        "num_headers": 5,
        "num_redirects": 1,
        "redirect_url": "http://h/next",
        "remote_ip": "127.0.0.1",
        "remote_port": 8080,
        "response_code": 301,
        "scheme": "https",
        "size_download": 1000,
        "size_header": 321,
        "size_request": 77,
        "size_upload": 12,
        "speed_download": 2047.9,  # bytes per second, written truncated as curl does
        "speed_upload": 0.5,
        "time_appconnect": 0.002,
        "time_connect": 0.001,
        "time_pretransfer": 0.003,
        "time_redirect": 0.0005,
        "time_starttransfer": 0.004,
        "time_total": 1.0000019,
        "url": "http://h/",
        "url_effective": "http://h/next",
    }
    assert set(values) | {"onerror", "stdout", "stderr"} == VARIABLES
    fmt = "|".join(f"%{{{name}}}" for name in sorted(values))
    text, warnings = write_out(fmt, values)
    assert warnings == []
    assert text.split("|") == [
        "text/html; charset=utf-8",
        "Failed to connect",
        "7",
        "out.bin",
        '{"a":["1"]\n}',
        "301",
        "1.1",
        "::1",
        "40000",
        "POST",
        "2",
        "5",
        "1",
        "http://h/next",
        "127.0.0.1",
        "8080",
        "301",
        "https",
        "1000",
        "321",
        "77",
        "12",
        "2047",
        "0",
        "0.002000",
        "0.001000",
        "0.003000",
        "0.000500",
        "0.004000",
        "1.000001",
        "http://h/",
        "http://h/next",
    ]


def test_onerror_stops_the_output_of_a_successful_transfer() -> None:
    fmt = "code %{http_code}%{onerror} failed: %{errormsg}"
    assert write_out(fmt, {"http_code": 200, "exitcode": 0}) == ("code 200", [])
    assert write_out(fmt, {"http_code": 0, "exitcode": 7, "errormsg": "no"}) == (
        "code 000 failed: no",
        [],
    )


def test_headers_of_the_last_response() -> None:
    headers = {"content-type": "text/plain", "x-a": "  b  "}
    text, warnings = write_out(
        "[%header{Content-Type}][%header{x-a}][%header{x-none}]", {}, headers
    )
    assert (text, warnings) == ("[text/plain][  b  ][]", [])
    assert write_out("%header{x-a", {}, headers) == ("%header{x-a", [])


# -- the command: what -w reports ---------------------------------------------------------

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"
)
CHUNKED_HEAD = CHUNKED[: CHUNKED.index(b"\r\n\r\n") + 4]
TIME = r"\d+\.\d{6}"

ALL = (
    "code=%{http_code} response=%{response_code} download=%{size_download} "
    "header=%{size_header} request=%{size_request} upload=%{size_upload} "
    "redirects=%{num_redirects} connects=%{num_connects} headers=%{num_headers} "
    "method=%{method} scheme=%{scheme} version=%{http_version} exit=%{exitcode} "
    "type=[%{content_type}] url=%{url} effective=%{url_effective} "
    "redirect=[%{redirect_url}] speed=%{speed_download} "
    "times=%{time_connect},%{time_appconnect},%{time_pretransfer},"
    "%{time_starttransfer},%{time_total},%{time_redirect}"
)


def fields(text: bytes) -> dict[str, str]:
    """``name=value`` pairs of the ALL format (values in [] may hold spaces)."""
    return {
        m.group(1): m.group(2).strip("[]")
        for m in re.finditer(r"(\w+)=(\[[^\]]*\]|\S+)", text.decode())
    }


async def test_values_of_a_chunked_response(raw_server: MakeServer) -> None:
    server = await raw_server(answer(CHUNKED))
    run = await cli("-w", "\\n" + ALL, server.url("/doc?q=1"))
    assert (run.code, run.err) == (0, b"")
    body, _, report = run.out.partition(b"\n")
    assert body == b"hello, world"
    got = fields(report)
    assert got["code"] == got["response"] == "200"
    assert got["download"] == "12"  # the body without its chunked framing
    assert got["header"] == str(len(CHUNKED_HEAD))
    assert got["request"] == str(len(server.requests[0]))
    assert got["upload"] == "0"
    assert got["redirects"] == "0"
    assert got["connects"] == "1"
    assert got["headers"] == "2"
    assert got["method"] == "GET"
    assert got["scheme"] == "http"
    assert got["version"] == "1.1"
    assert got["exit"] == "0"
    assert got["type"] == "text/plain; charset=utf-8"
    assert got["url"] == got["effective"] == server.url("/doc?q=1")
    assert got["redirect"] == ""
    times = got["times"].split(",")
    assert all(re.fullmatch(TIME, value) for value in times), times
    connect, appconnect, pretransfer, starttransfer, total, redirect = map(float, times)
    assert appconnect == 0.0  # http://: no TLS handshake
    assert redirect == 0.0
    assert 0 < connect <= pretransfer <= starttransfer <= total < 10
    assert int(got["speed"]) == pytest.approx(12 / total, rel=0.1, abs=1)


async def test_a_post_counts_its_body(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"ok")))
    run = await cli(
        "-s",
        "-o",
        "/dev/null",
        "-d",
        "a=1&b=2",
        "-w",
        "%{method} %{size_upload} %{size_request}",
        server.url(),
    )
    assert run.code == 0
    assert run.out == b"POST 7 %d" % len(server.requests[0])


async def test_size_download_with_compressed_is_the_size_received(
    raw_server: MakeServer,
) -> None:
    text = b"compressible " * 200
    packed = gzip.compress(text)
    server = await raw_server(answer(response(packed, "Content-Encoding: gzip")))
    run = await cli("--compressed", "-w", "|%{size_download}", server.url())
    assert run.code == 0
    assert run.out == text + b"|%d" % len(packed)


async def test_head_request(raw_server: MakeServer) -> None:
    server = await raw_server(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"))
    run = await cli("-I", "-w", "%{http_code} %{size_download} %{method}", server.url())
    assert run.code == 0
    assert run.out == b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n200 0 HEAD"


REDIRECTS = {
    "/a": response(b"moved", "Location: /b", status="302 Found"),
    "/b": response(b"", "Location: c?x=1", status="301 Moved Permanently"),
    "/c?x=1": response(b"final body", "Content-Type: text/final"),
}


async def test_values_after_redirects(raw_server: MakeServer) -> None:
    server = await raw_server(routes(REDIRECTS))
    run = await cli("-L", "-w", "\\n" + ALL, server.url("/a"))
    assert (run.code, run.err) == (0, b"")
    body, _, report = run.out.partition(b"\n")
    assert body == b"final body"
    got = fields(report)
    assert got["code"] == "200"
    assert got["redirects"] == "2"
    assert got["connects"] == "1"  # one kept-alive connection for the three requests
    assert got["effective"] == server.url("/c?x=1")
    assert got["url"] == server.url("/a")
    assert got["download"] == str(len(b"final body"))  # the last response's body
    heads = [REDIRECTS[path][: REDIRECTS[path].index(b"\r\n\r\n") + 4] for path in REDIRECTS]
    assert got["header"] == str(sum(map(len, heads)))  # every head, as curl counts
    assert got["request"] == str(sum(map(len, server.requests)))
    assert got["type"] == "text/final"
    assert got["redirect"] == ""
    connect, appconnect, _, starttransfer, total, redirect = map(float, got["times"].split(","))
    assert appconnect == 0.0
    assert 0 < connect <= starttransfer <= total
    assert 0 < redirect <= total


async def test_redirect_not_followed(raw_server: MakeServer) -> None:
    server = await raw_server(routes(REDIRECTS))
    run = await cli("-w", "\\n" + ALL, server.url("/a"))
    assert run.code == 0
    got = fields(run.out.partition(b"\n")[2])
    assert (got["code"], got["redirects"]) == ("302", "0")
    assert got["redirect"] == server.url("/b")  # where -L would have gone
    assert got["effective"] == server.url("/a")
    assert got["download"] == "5"


async def test_too_many_redirects_still_writes(raw_server: MakeServer) -> None:
    server = await raw_server(routes(REDIRECTS))
    run = await cli(
        "-L",
        "--max-redirs",
        "1",
        "-w",
        "%{http_code} %{num_redirects} %{redirect_url}",
        server.url("/a"),
    )
    assert_error(run, 47)
    assert run.out.endswith(b"301 1 " + server.url("/c?x=1").encode())


async def test_a_failure_after_a_redirect_still_writes_the_chain(raw_server: MakeServer) -> None:
    """-L, and the request the redirect asks for cannot connect: -w reports the
    redirect followed (its status, body size and Location) and the URL that failed."""
    target = f"http://127.0.0.1:{refused_port()}/gone"
    moved = response(b"moved", f"Location: {target}", status="303 See Other")
    server = await raw_server(routes({"/a": moved}))
    fmt = "%{http_code} %{num_redirects} %{url_effective} %{redirect_url} %{size_download} %{exitcode} %{scheme}"
    run = await cli("-L", "-d", "x=1", "-w", fmt, server.url("/a"))
    assert_error(run, 7)
    assert run.out == f"303 1 {target} {target} 5 7 http".encode()
    assert len(server.requests) == 1


async def test_time_order_over_tls(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    server = await raw_server(answer(response(b"secret")), ssl=tls_context(ca))
    fmt = "%{time_connect} %{time_appconnect} %{time_pretransfer} %{time_starttransfer} %{time_total} %{scheme}"
    run = await cli(
        "--cacert",
        str(tmp_path / "ca.pem"),
        "-o",
        "/dev/null",
        "-w",
        fmt,
        server.url(scheme="https"),
    )
    assert (run.code, run.err) == (0, b"")
    *times, scheme = run.out.decode().split()
    assert all(re.fullmatch(TIME, value) for value in times), times
    connect, appconnect, pretransfer, starttransfer, total = map(float, times)
    assert scheme == "https"
    assert 0 < connect < appconnect <= pretransfer <= starttransfer <= total


async def test_a_failed_connection_writes_000() -> None:
    fmt = "%{http_code} %{time_connect} %{time_total} %{size_download} %{exitcode} %{url_effective}|%{errormsg}"
    url = f"http://127.0.0.1:{refused_port()}/x"
    run = await cli("-w", fmt, url)
    assert_error(run, 7)
    code, connect, total, size, exitcode, rest = run.out.decode().split(" ", 5)
    assert (code, connect, size, exitcode) == ("000", "0.000000", "0", "7")
    assert re.fullmatch(TIME, total)
    effective, _, message = rest.partition("|")
    assert effective == url
    assert message.startswith("Failed to connect")

    # -s does not silence -w (curl's behaviour), nor does a malformed URL stop it
    run = await cli("-s", "-w", "[%{http_code}]", "http://[::1")
    assert (run.code, run.out, run.err) == (3, b"[000]", b"")


async def test_a_partial_body_reports_what_arrived(raw_server: MakeServer) -> None:
    async def short(conn: RawConnection) -> None:
        await read_message(conn)
        await conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")

    server = await raw_server(short)
    run = await cli(
        "-w", "|%{http_code} %{size_download} %{exitcode}%{onerror} failed", server.url()
    )
    assert_error(run, 18)
    assert run.out == b"0123456789|200 10 18 failed"


async def test_http_error_with_fail(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"missing", status="404 Not Found")))
    run = await cli("-f", "-w", "%{http_code}%{onerror} bad", server.url())
    assert_error(run, 22)
    assert run.out == b"404 bad"


async def test_onerror_after_success(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"x")))
    run = await cli("-w", "|%{http_code}%{onerror} bad", server.url())
    assert (run.code, run.out) == (0, b"x|200")


async def test_format_from_a_file_and_from_stdin(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "fmt.txt").write_bytes(b"code: %{http_code}\\n\nfile: %{filename_effective}\n")
    server = await raw_server(answer(response(b"body")))
    run = await cli("-o", "out", "-w", "@fmt.txt", server.url(), cwd=tmp_path)
    assert (run.code, run.err) == (0, b"")
    assert run.out == b"code: 200\n\nfile: out\n"  # newlines in the file are kept
    assert (tmp_path / "out").read_bytes() == b"body"

    server = await raw_server(answer(response(b"body")))
    run = await cli("-w", "@-", server.url(), stdin=b"|%{size_download}")
    assert (run.code, run.out) == (0, b"body|4")


async def test_format_file_that_cannot_be_read(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(answer(response(b"body")))
    run = await cli("-w", "@missing.txt", server.url(), cwd=tmp_path)
    assert_error(run, 26)
    assert run.out == b""
    assert server.requests == []


async def test_unknown_variable_warns_on_stderr(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"body")))
    run = await cli("-s", "-w", "|%{time_namelookupp}|%{http_code}", server.url())
    assert run.code == 0
    assert run.out == b"body||200"
    assert run.err == b"rawhttp: unknown --write-out variable: 'time_namelookupp'\n"


async def test_header_variable_and_bytes_as_received(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"", "X-Bytes: caf\xe9", "X-Twice: 1", "X-Twice: 2")))
    run = await cli("-w", "%header{x-bytes}|%header{X-TWICE}|%header{x-none}", server.url())
    assert run.code == 0
    assert run.out == b"caf\xe9|1|"


# -- redirects: -X and --post301/302/303 ----------------------------------------------------


def redirecting(status: str, path: str = "/next") -> Handler:
    """First request: a redirect with ``status`` to ``path``; then 200 "done"."""
    return routes(
        {"/start": response(b"", f"Location: {path}", status=status), path: response(b"done")}
    )


def request_lines(server: RawServer) -> list[bytes]:
    return [request.split(b"\r\n", 1)[0] for request in server.requests]


def body(request: bytes) -> bytes:
    return request.partition(b"\r\n\r\n")[2]


def has_field(request: bytes, name: bytes) -> bool:
    head = request.partition(b"\r\n\r\n")[0].lower()
    return b"\r\n" + name.lower() + b":" in head


@pytest.mark.parametrize("status", ["301 Moved Permanently", "302 Found", "303 See Other"])
async def test_post_becomes_get_after_301_302_303(raw_server: MakeServer, status: str) -> None:
    server = await raw_server(redirecting(status))
    run = await cli("-L", "-d", "a=1", "-w", "|%{method}", server.url("/start"))
    assert (run.code, run.out) == (0, b"done|GET")
    assert request_lines(server) == [b"POST /start HTTP/1.1", b"GET /next HTTP/1.1"]
    assert body(server.requests[1]) == b""
    assert not has_field(server.requests[1], b"content-type")
    assert not has_field(server.requests[1], b"content-length")


@pytest.mark.parametrize("status", ["307 Temporary Redirect", "308 Permanent Redirect"])
async def test_post_is_repeated_after_307_308(raw_server: MakeServer, status: str) -> None:
    server = await raw_server(redirecting(status))
    run = await cli("-L", "-d", "a=1", server.url("/start"))
    assert (run.code, run.out) == (0, b"done")
    assert request_lines(server) == [b"POST /start HTTP/1.1", b"POST /next HTTP/1.1"]
    assert body(server.requests[1]) == b"a=1"


@pytest.mark.parametrize("code", [301, 302, 303])
async def test_post30x_keeps_the_post(raw_server: MakeServer, code: int) -> None:
    server = await raw_server(redirecting(f"{code} Moved"))
    run = await cli("-L", f"--post{code}", "--data-binary", "x\ny", server.url("/start"))
    assert (run.code, run.out) == (0, b"done")
    assert request_lines(server) == [b"POST /start HTTP/1.1", b"POST /next HTTP/1.1"]
    assert body(server.requests[1]) == b"x\ny"
    assert has_field(server.requests[1], b"content-type")

    # the option for one status does not change the others
    other = 302 if code != 302 else 301
    server = await raw_server(redirecting(f"{other} Moved"))
    run = await cli("-L", f"--post{code}", "-d", "a", server.url("/start"))
    assert request_lines(server)[1] == b"GET /next HTTP/1.1"


async def test_request_method_is_kept_across_redirects(raw_server: MakeServer) -> None:
    """curl: the -X method is used for every request; a body still follows the rules
    of the status (dropped after 301/302/303 unless --post30x)."""
    server = await raw_server(redirecting("302 Found"))
    run = await cli("-L", "-X", "POST", "-d", "a=1", "-w", "|%{method}", server.url("/start"))
    assert (run.code, run.out) == (0, b"done|POST")
    assert request_lines(server) == [b"POST /start HTTP/1.1", b"POST /next HTTP/1.1"]
    assert body(server.requests[0]) == b"a=1"
    assert body(server.requests[1]) == b""
    assert not has_field(server.requests[1], b"content-type")

    server = await raw_server(redirecting("302 Found"))
    run = await cli("-L", "-X", "POST", "--post302", "-d", "a=1", server.url("/start"))
    assert request_lines(server) == [b"POST /start HTTP/1.1", b"POST /next HTTP/1.1"]
    assert body(server.requests[1]) == b"a=1"

    server = await raw_server(redirecting("303 See Other"))
    run = await cli("-L", "-X", "DELETE", server.url("/start"))
    assert request_lines(server) == [b"DELETE /start HTTP/1.1", b"DELETE /next HTTP/1.1"]

    server = await raw_server(redirecting("303 See Other"))
    run = await cli("-L", "-X", "PUT", "-d", "v", server.url("/start"))
    assert request_lines(server) == [b"PUT /start HTTP/1.1", b"PUT /next HTTP/1.1"]
    assert body(server.requests[1]) == b""


async def test_head_stays_head_after_303(raw_server: MakeServer) -> None:
    server = await raw_server(redirecting("303 See Other"))
    run = await cli("-I", "-L", server.url("/start"))
    assert run.code == 0
    assert request_lines(server) == [b"HEAD /start HTTP/1.1", b"HEAD /next HTTP/1.1"]


async def test_max_time_covers_the_whole_redirect_chain(raw_server: MakeServer) -> None:
    async def slow(conn: RawConnection) -> None:
        while True:
            head, _ = await read_message(conn)
            if not head:
                return
            await asyncio.sleep(0.4)
            await conn.send(response(b"", "Location: /again", status="302 Found"))

    server = await raw_server(slow)
    run = await cli("-L", "-m", "1", "-w", "%{num_redirects}", server.url("/start"))
    assert_error(run, 28)
    assert run.out in (b"1", b"2")
    assert run.seconds < 5


# -- proxies: -x and --noproxy ------------------------------------------------------------


async def test_http_through_a_proxy(raw_server: MakeServer) -> None:
    proxy = await raw_server(answer(response(b"from the proxy")))
    run = await cli(
        "-x",
        f"http://127.0.0.1:{proxy.port}",
        "-w",
        "|%{http_code}",
        "http://origin.example:8080/p?q=1",
    )
    assert (run.code, run.out) == (0, b"from the proxy|200")
    assert request_lines(proxy) == [b"GET http://origin.example:8080/p?q=1 HTTP/1.1"]
    assert b"\r\nHost: origin.example:8080\r\n" in proxy.requests[0]


async def test_proxy_credentials_and_default_scheme(raw_server: MakeServer) -> None:
    proxy = await raw_server(answer(response(b"ok")))
    run = await cli("--proxy", f"user:pw@127.0.0.1:{proxy.port}", "http://origin.example/")
    assert (run.code, run.out) == (0, b"ok")
    assert b"\r\nProxy-Authorization: Basic dXNlcjpwdw==\r\n" in proxy.requests[0]


async def test_noproxy_goes_direct(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"direct")))
    dead = f"http://127.0.0.1:{refused_port()}"
    run = await cli("-x", dead, "--noproxy", "*", server.url("/d"))
    assert (run.code, run.out) == (0, b"direct")
    assert request_lines(server) == [b"GET /d HTTP/1.1"]

    server = await raw_server(answer(response(b"direct")))
    run = await cli("-x", dead, "--noproxy", "example.com, 127.0.0.1", server.url("/d"))
    assert (run.code, run.out) == (0, b"direct")


async def test_an_empty_proxy_ignores_the_environment(
    raw_server: MakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{refused_port()}")
    server = await raw_server(answer(response(b"direct")))
    run = await cli("-x", "", server.url())
    assert (run.code, run.out) == (0, b"direct")


async def test_a_malformed_proxy_in_the_environment(
    raw_server: MakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", "http://[::1")
    run = await cli("http://origin.example/")
    assert_error(run, 5)
    # -x wins over the environment, and -x "" means no proxy
    server = await raw_server(answer(response(b"direct")))
    run = await cli("-x", "", server.url())
    assert (run.code, run.out) == (0, b"direct")


async def test_proxy_exit_codes(raw_server: MakeServer) -> None:
    run = await cli("-x", f"http://127.0.0.1:{refused_port()}", "http://origin.example/")
    assert_error(run, 7)
    assert b"proxy" in run.err

    run = await cli(
        "-x", "http://no-such-proxy.invalid:3128", "http://origin.example/", code=NO_DNS
    )
    assert_error(run, 5)
    assert run.err.startswith(b"rawhttp: (5) Could not resolve proxy")

    for bad in ("http://[::1", "http://127.0.0.1:99999", "http://u:secret@host:x"):
        run = await cli("-x", bad, "http://origin.example/")
        assert_error(run, 5)
        assert b"secret" not in run.err
    run = await cli("-x", "socks5://127.0.0.1:1080", "http://origin.example/")
    assert_error(run, 7)
    assert b"Unsupported proxy scheme" in run.err


async def test_connect_refused_by_the_proxy(raw_server: MakeServer) -> None:
    async def refuse(conn: RawConnection) -> None:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        conn.server.requests.append(head)
        await conn.send(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")

    proxy = await raw_server(refuse)
    run = await cli(
        "-x", f"http://127.0.0.1:{proxy.port}", "-w", "%{http_code}", "https://origin.example/"
    )
    assert_error(run, 56)
    assert run.err == b"rawhttp: (56) CONNECT tunnel failed, response 407\n"
    assert run.out == b"000"
    assert request_lines(proxy) == [b"CONNECT origin.example:443 HTTP/1.1"]


async def test_https_through_a_tunnel(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    origin = await raw_server(answer(response(b"tunnelled")), ssl=tls_context(ca))

    async def tunnel(conn: RawConnection) -> None:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        conn.server.requests.append(head)
        reader, writer = await asyncio.open_connection("127.0.0.1", origin.port)
        await conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(
            pipe(conn.reader, writer), pipe(reader, conn.writer), return_exceptions=True
        )

    proxy = await raw_server(tunnel)
    fmt = "|%{http_code} %{time_connect} %{time_appconnect} %{time_starttransfer} %{time_total}"
    run = await cli(
        "--cacert",
        str(tmp_path / "ca.pem"),
        "-x",
        f"127.0.0.1:{proxy.port}",
        "-w",
        fmt,
        f"https://127.0.0.1:{origin.port}/secret",
    )
    assert (run.code, run.err) == (0, b"")
    body_, _, report = run.out.partition(b"|")
    assert body_ == b"tunnelled"
    code, *times = report.decode().split()
    assert code == "200"
    connect, appconnect, starttransfer, total = map(float, times)
    assert 0 < connect < appconnect <= starttransfer <= total
    assert request_lines(proxy) == [b"CONNECT 127.0.0.1:%d HTTP/1.1" % origin.port]
    assert origin.requests[0].startswith(b"GET /secret HTTP/1.1\r\n")


async def test_num_headers_and_size_header_of_a_bare_lf_head(raw_server: MakeServer) -> None:
    """A head whose lines end in a bare LF (RFC 9112 section 2.2) counts its header
    lines the same; it counted -2 before, looking for CRLF."""
    head = b"HTTP/1.1 200 OK\nContent-Type: text/plain\nX-A: b\nContent-Length: 2\n\n"
    server = await raw_server(answer(head + b"hi"))
    run = await cli("-w", "\\n%{num_headers} %{size_header}", server.url())
    assert (run.code, run.out) == (0, b"hi\n3 %d" % len(head))
