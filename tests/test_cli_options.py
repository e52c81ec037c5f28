"""The ``rawhttp`` command as curl users write it (issue 14): the command line as curl
reads it (combined flags, ``--no-``, ``--``, ``-K`` files, ``-:``), several URLs and
their outputs, globs, ``-Z``, and the options wired on the library's features:
cookies, retries, Digest, ``--resolve``/``--connect-to``, output files (-D -J -R
--output-dir --create-dirs -C), -r -z -e, -H @file, --fail-with-body, -v and -w
addresses.  Pure pieces (parser, config files) are tested with plain values."""

from __future__ import annotations

import hashlib
import os
import pathlib
import re
import time

import pytest
from conftest import RawConnection, read_message, refused_port
from test_cli import (
    MakeServer,
    answer,
    assert_error,
    cli,
    field_values,
    response,
    routes,
)

from rawhttp.cli._args import UsageError, parse_command
from rawhttp.cli._config_file import config_tokens
from rawhttp.cli._connect import connect_map
from rawhttp.cli._exit import CliError
from rawhttp.cli._time_cond import parse_date

# -- the command line, read as curl reads it ------------------------------------------


def test_combined_short_flags_and_attached_arguments() -> None:
    command = parse_command(["-sSLofile", "http://a/", "-H", "X: 1", "-m2.5"])
    (op,) = command.operations
    assert (op.silent, op.show_error, op.location) == (True, True, True)
    assert op.outputs == [("file", "file")]
    assert op.urls == ["http://a/"]
    assert (op.header, op.max_time) == (["X: 1"], 2.5)


def test_no_prefix_turns_a_switch_off_and_last_value_wins() -> None:
    (op,) = parse_command(["-L", "--no-location", "-X", "PUT", "-X", "POST", "u"]).operations
    assert (op.location, op.request) == (False, "POST")
    with pytest.raises(UsageError, match="used '--no-' for option that isn't a boolean"):
        parse_command(["--no-output", "u"])


def test_double_dash_ends_the_options() -> None:
    (op,) = parse_command(["-s", "--", "-v", "http://b/"]).operations
    assert (op.urls, op.verbose) == (["-v", "http://b/"], False)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--foo", "http://a/"], "option --foo: is unknown"),
        (["-9", "http://a/"], "option -9: is unknown"),
        (["http://a/", "-sSo"], "option -sSo: requires parameter"),
        (["-m", "soon", "u"], "option -m: expected a proper numerical parameter"),
        (["--retry", "-2", "u"], "option --retry: expected a positive numerical parameter"),
        (["-s"], "no URL specified!"),
    ],
)
def test_usage_errors_name_the_option_never_the_url(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_command(argv)
    assert (str(info.value), info.value.code) == (message, 2)


def test_next_starts_an_operation_and_globals_apply_to_all() -> None:
    command = parse_command(["-H", "A: 1", "u1", "-:", "-v", "-d", "x", "u2", "u3"])
    first, second = command.operations
    assert (first.urls, first.header, first.data) == (["u1"], ["A: 1"], [])
    assert (second.urls, second.header, second.data) == (["u2", "u3"], [], [("data", "x")])
    assert first.verbose  # -v is global, as curl's
    assert second.verbose


def test_outputs_pair_with_urls_in_order() -> None:
    (op,) = parse_command(["-O", "u1", "u2", "-o", "two", "u3"]).operations
    assert op.outputs == [("remote", None), ("file", "two")]
    assert op.urls == ["u1", "u2", "u3"]


def test_config_file_syntax() -> None:
    text = (
        "# a comment\n"
        '  url = "http://a/x y"\n'
        "silent\n"
        '-H "X-Quoted: a\\"b\\\\c\\td"\n'
        "--max-time: 3\n"  # with dashes the colon is part of the name: unknown
        "output=out.txt\n"
        "max-time: 2\n"
        "bogus 1\n"
        "\n"
    )
    lines, warnings = config_tokens(text, "k.cfg")
    assert lines == [
        ["--url", "http://a/x y"],
        ["--silent"],
        ["-H", 'X-Quoted: a"b\\c\td'],
        ["--output", "out.txt"],
        ["--max-time", "2"],
    ]
    assert warnings == [
        "k.cfg:5: warning: '--max-time:' is unknown",
        "k.cfg:8: warning: 'bogus' is unknown",
    ]


def test_config_file_from_the_command(tmp_path: pathlib.Path) -> None:
    (tmp_path / "k").write_text('url = "http://a/"\n-s\nheader = "A: 1"\n')
    (op,) = parse_command(["-K", str(tmp_path / "k"), "-H", "B: 2"]).operations
    assert (op.urls, op.silent, op.header) == (["http://a/"], True, ["A: 1", "B: 2"])
    (tmp_path / "loop").write_text(f"config = {tmp_path / 'loop'}\n")
    with pytest.raises(UsageError, match="nested too deep"):
        parse_command(["-K", str(tmp_path / "loop"), "u"])
    with pytest.raises(UsageError) as info:
        parse_command(["-K", str(tmp_path / "missing"), "u"])
    assert info.value.code == 26


async def test_config_file_from_stdin_and_unknown_option_message(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"from config")))
    run = await cli("-K", "-", stdin=f'url = "{server.url("/k")}"\nsilent\n'.encode())
    assert (run.code, run.out, run.err) == (0, b"from config", b"")
    run = await cli("--bogus", server.url())
    assert run.code == 2
    assert run.err.startswith(b"rawhttp: option --bogus: is unknown\n")
    assert server.url().encode() not in run.err


# -- several URLs, globs, -Z ----------------------------------------------------------------


async def test_several_urls_reuse_the_connection_and_pair_outputs(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(routes({"/a": response(b"AAA"), "/b": response(b"BBB")}))
    run = await cli("-s", "-o", "first", server.url("/a"), server.url("/b"), cwd=tmp_path)
    assert (run.code, run.out) == (0, b"BBB")  # the second URL has no -o: stdout
    assert (tmp_path / "first").read_bytes() == b"AAA"
    assert server.connections == 1


async def test_the_exit_code_is_the_last_transfers(raw_server: MakeServer) -> None:
    server = await raw_server(routes({"/ok": response(b"ok")}))
    refused = f"http://127.0.0.1:{refused_port()}/"
    run = await cli("-s", refused, server.url("/ok"))
    assert (run.code, run.out) == (0, b"ok")  # as curl: a later success hides it
    run = await cli("-sS", server.url("/ok"), refused)
    assert run.code == 7
    assert run.out == b"ok"


async def test_globs_and_numbered_outputs(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    table = {f"/{s}{n}": response(f"{s}{n}".encode()) for s in "ab" for n in (1, 2)}
    table["/%7Ba,b%7D"] = response(b"literal")
    server = await raw_server(routes(table))
    url = server.url("/{a,b}[1-2]")
    run = await cli("-s", url, "-o", "out_#1_#2", cwd=tmp_path)
    assert run.code == 0
    for s in "ab":
        for n in (1, 2):
            assert (tmp_path / f"out_{s}_{n}").read_bytes() == f"{s}{n}".encode()
    run = await cli("-s", "-g", server.url("/{a,b}"))  # --globoff: sent as it is
    assert (run.code, run.out) == (0, b"literal")
    assert server.requests[-1].startswith(b"GET /%7Ba,b%7D HTTP/1.1\r\n")


async def test_parallel_transfers_all_complete(raw_server: MakeServer) -> None:
    async def slow(conn: RawConnection) -> None:
        while True:
            head, _ = await read_message(conn)
            if not head:
                return
            await conn.send(response(head.split(b" ")[1]))

    server = await raw_server(slow)
    run = await cli("-s", "-Z", "--parallel-max", "3", server.url("/[1-6]"))
    assert run.code == 0
    assert sorted(re.findall(rb"/\d", run.out)) == [b"/%d" % n for n in range(1, 7)]


# -- outputs ----------------------------------------------------------------------------------


async def test_output_dir_create_dirs_and_dump_header(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    reply = response(b"body", "X-A: 1")
    server = await raw_server(answer(reply))
    run = await cli(
        "-s", "--output-dir", "out", "--create-dirs", "-o", "d/e.txt", "-D", "heads",
        server.url(), cwd=tmp_path,
    )  # fmt: skip
    assert run.code == 0
    assert (tmp_path / "out/d/e.txt").read_bytes() == b"body"
    assert (tmp_path / "heads").read_bytes() == reply[: reply.index(b"\r\n\r\n") + 4]
    server = await raw_server(answer(reply))
    run = await cli("-sS", "-o", "missing/x", server.url(), cwd=tmp_path)
    assert_error(run, 23)  # without --create-dirs, as curl


async def test_remote_header_name_is_made_safe_and_remote_time(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    server = await raw_server(
        answer(
            response(
                b"x",
                'Content-Disposition: attachment; filename="../../evil name.txt"',
                "Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT",
            )
        )
    )
    run = await cli("-s", "-OJR", server.url("/dir/f.bin"), cwd=tmp_path)
    assert run.code == 0
    saved = tmp_path / "evil name.txt"
    assert saved.read_bytes() == b"x"
    assert int(saved.stat().st_mtime) == 1445412480
    assert not (tmp_path / "f.bin").exists()


async def test_fail_with_body_writes_the_body_then_exits_22(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"not here", status="404 Not Found")))
    run = await cli("--fail-with-body", server.url())
    assert run.code == 22
    assert run.out == b"not here"
    server = await raw_server(answer(response(b"not here", status="404 Not Found")))
    run = await cli("-f", server.url())
    assert (run.code, run.out) == (22, b"")


async def test_include_keeps_every_heads_written_when_a_later_hop_fails(
    raw_server: MakeServer,
) -> None:
    target = f"http://127.0.0.1:{refused_port()}/gone"
    hop = response(b"", f"Location: {target}", status="302 Found")
    server = await raw_server(answer(hop))
    run = await cli("-sS", "-i", "-L", server.url())
    assert run.code == 7
    assert run.out == hop


async def test_continue_at_and_range(raw_server: MakeServer, tmp_path: pathlib.Path) -> None:
    (tmp_path / "part").write_bytes(b"01234")
    server = await raw_server(answer(response(b"56789", status="206 Partial Content")))
    run = await cli("-s", "-C", "-", "-o", "part", server.url(), cwd=tmp_path)
    assert run.code == 0
    assert field_values(server.requests[0], "range") == ["bytes=5-"]
    assert (tmp_path / "part").read_bytes() == b"0123456789"
    # a server that ignores the range: curl's exit 33, the file untouched
    server = await raw_server(answer(response(b"0123456789")))
    run = await cli("-sS", "-C", "5", "-o", "part2", server.url(), cwd=tmp_path)
    assert run.code == 33
    server = await raw_server(answer(response(b"", status="206 Partial Content")))
    run = await cli("-s", "-r", "0-99", server.url())
    assert field_values(server.requests[0], "range") == ["bytes=0-99"]


async def test_time_condition_referer_and_header_file(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "h.txt").write_text("X-From-File: 1\n\nX-Second: 2\n")
    stamp = tmp_path / "stamp"
    stamp.write_bytes(b"")
    os.utime(stamp, (1445412480, 1445412480))
    server = await raw_server(routes({"/": response(b"")}))
    run = await cli(
        "-s", "-z", str(stamp), "-e", "http://from/;auto", "-H", "@h.txt", server.url(),
        cwd=tmp_path,
    )  # fmt: skip
    assert run.code == 0
    request = server.requests[0]
    assert field_values(request, "if-modified-since") == ["Wed, 21 Oct 2015 07:28:00 GMT"]
    assert field_values(request, "referer") == ["http://from/"]
    assert field_values(request, "x-from-file") == ["1"]
    assert field_values(request, "x-second") == ["2"]
    run = await cli("-z", "-2015-10-21", server.url())
    assert field_values(server.requests[1], "if-unmodified-since") == [
        "Wed, 21 Oct 2015 00:00:00 GMT"
    ]
    run = await cli("-z", "not a date", server.url())
    assert b"Illegal date format for -z" in run.err
    assert field_values(server.requests[2], "if-modified-since") == []


def test_dates_the_time_condition_reads() -> None:
    expected = 1445412480.0
    for text in ("Wed, 21 Oct 2015 07:28:00 GMT", "2015-10-21T07:28:00Z", "2015-10-21 07:28:00"):
        when = parse_date(text)
        assert when is not None
        assert when.timestamp() == expected, text
    assert parse_date("20151021") == parse_date("2015-10-21")
    assert parse_date("yesterday-ish") is None


# -- cookies, retries, auth, where to connect ---------------------------------------------


async def test_cookies_from_a_string_into_a_jar_file(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    first = response(b"", "Set-Cookie: sid=abc; Path=/", "Location: /two", status="302 Found")
    server = await raw_server(answer(first, response(b"done")))
    run = await cli("-s", "-L", "-b", "lang=en", "-c", "jar.txt", server.url("/one"), cwd=tmp_path)
    assert (run.code, run.out) == (0, b"done")
    assert field_values(server.requests[0], "cookie") == ["lang=en"]
    assert field_values(server.requests[1], "cookie") == ["sid=abc; lang=en"]
    jar = (tmp_path / "jar.txt").read_text()
    assert jar.startswith("# Netscape HTTP Cookie File\n")
    assert "\tsid\tabc\n" in jar
    # read back with -b FILE, and -j drops the session cookie
    server = await raw_server(routes({"/": response(b"")}))
    await cli("-s", "-b", "jar.txt", server.url(), cwd=tmp_path)
    assert field_values(server.requests[0], "cookie") == ["sid=abc"]
    await cli("-s", "-b", "jar.txt", "-j", server.url(), cwd=tmp_path)
    assert field_values(server.requests[1], "cookie") == []


async def test_without_cookie_options_no_cookie_is_kept(raw_server: MakeServer) -> None:
    first = response(b"", "Set-Cookie: sid=abc", "Location: /two", status="302 Found")
    server = await raw_server(answer(first, response(b"done")))
    run = await cli("-s", "-L", server.url("/one"))
    assert (run.code, run.out) == (0, b"done")
    assert field_values(server.requests[1], "cookie") == []  # as curl: no cookie engine


async def test_retry_a_transient_status_and_rewind_the_file(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    busy = response(b"busy", "Retry-After: 0", status="503 Service Unavailable")
    server = await raw_server(routes({"/": busy}))
    second = await raw_server(answer(response(b"fine")))
    # the first server is always busy: both tries fail, the last answer is kept
    run = await cli("--retry", "1", "-o", "out", server.url(), cwd=tmp_path)
    assert run.code == 0
    assert len(server.requests) == 2
    assert run.err == (
        b"Warning: Problem : HTTP error. Will retry in 1 seconds. 1 retries left.\n"
        b"Throwing away 4 bytes\n"
    )
    assert (tmp_path / "out").read_bytes() == b"busy"
    run = await cli("-s", "--retry", "2", second.url())
    assert (run.code, run.out) == (0, b"fine")


async def test_retry_connrefused(tmp_path: pathlib.Path) -> None:
    url = f"http://127.0.0.1:{refused_port()}/"
    start = time.monotonic()
    run = await cli("--retry", "2", "--retry-delay", "0", url)
    assert run.code == 7
    assert b"Will retry" not in run.err  # refused: not transient without the option
    run = await cli("--retry", "2", "--retry-delay", "0", "--retry-connrefused", url)
    assert run.code == 7
    assert run.err.count(b"Warning: Problem : connection refused.") == 2
    assert time.monotonic() - start < 20


def _digest_server() -> object:
    """A handler answering a Digest challenge (RFC 7616, MD5, qop=auth)."""

    async def handler(conn: RawConnection) -> None:
        while True:
            head, _ = await read_message(conn)
            if not head:
                return
            auth = [v for k, v in _fields(head) if k == "authorization"]
            if not auth:
                await conn.send(
                    response(
                        b"", 'WWW-Authenticate: Digest realm="r", nonce="n1", qop="auth"',
                        status="401 Unauthorized",
                    )
                )  # fmt: skip
                continue
            params = dict(re.findall(r'(\w+)="?([^",]*)"?', auth[0]))
            ha1 = hashlib.md5(b"ann:r:pw").hexdigest()
            ha2 = hashlib.md5(f"GET:{params['uri']}".encode()).hexdigest()
            expect = hashlib.md5(
                f"{ha1}:n1:{params['nc']}:{params['cnonce']}:auth:{ha2}".encode()
            ).hexdigest()
            ok = params["response"] == expect
            await conn.send(response(b"welcome" if ok else b"no", status="200 OK"))

    return handler


def _fields(head: bytes) -> list[tuple[str, str]]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return [(k.strip().lower(), v.strip()) for k, _, v in (x.partition(":") for x in lines if x)]


async def test_digest_and_anyauth(raw_server: MakeServer) -> None:
    for option in ("--digest", "--anyauth"):
        server = await raw_server(_digest_server())
        run = await cli("-s", option, "-u", "ann:pw", server.url("/p"))
        assert (run.code, run.out) == (0, b"welcome"), option


async def test_resolve_and_connect_to(raw_server: MakeServer) -> None:
    server = await raw_server(routes({"/r": response(b"resolved")}))
    run = await cli(
        "-s", "--resolve", f"app.test:{server.port}:127.0.0.1", f"http://app.test:{server.port}/r"
    )
    assert (run.code, run.out) == (0, b"resolved")
    assert field_values(server.requests[0], "host") == [f"app.test:{server.port}"]
    run = await cli("-s", "--connect-to", f"::127.0.0.1:{server.port}", "http://other.test/r")
    assert (run.code, run.out) == (0, b"resolved")
    assert field_values(server.requests[1], "host") == ["other.test"]
    run = await cli("--resolve", "nonsense", "http://a.test/")
    assert run.code == 2


def test_connect_map_rules() -> None:
    where = connect_map(
        ["a.test:80:10.0.0.1", "*:443:[::1]", "-a.test:80"], ["b.test:80:a.test:81"]
    )
    assert where is not None
    assert where("a.test", 80) is None  # removed by "-a.test:80"
    assert where("x.test", 443) == ("::1", 443)
    assert where("b.test", 80) == ("a.test", 81)
    assert connect_map([], []) is None
    with pytest.raises(CliError):
        connect_map(["a.test:http:1.2.3.4"], [])


async def test_verbose_says_where_it_connects_and_write_out_addresses(
    raw_server: MakeServer,
) -> None:
    server = await raw_server(answer(response(b"x")))
    fmt = "%{remote_ip} %{remote_port} %{local_ip} %{local_port}|%{stderr}on-stderr"
    run = await cli("-v", "-w", fmt, server.url())
    assert run.err.startswith(
        b"*   Trying 127.0.0.1:%d...\n* Connected to 127.0.0.1 (127.0.0.1) port %d (#0)\n"
        % (server.port, server.port)
    )
    assert run.err.endswith(b"on-stderr")
    ip, port, local_ip, rest = run.out.removeprefix(b"x").split(b" ")
    assert (ip, port, local_ip) == (b"127.0.0.1", str(server.port).encode(), b"127.0.0.1")
    assert rest.rstrip(b"|").isdigit()


async def test_header_json(raw_server: MakeServer) -> None:
    server = await raw_server(answer(response(b"", "X-A: 1", "X-A: 2", 'X-Q: "q"')))
    run = await cli("-s", "-w", "%{header_json}", server.url())
    assert run.out == b'{"x-a":["1","2"],\n"x-q":["\\"q\\""],\n"content-length":["0"]\n}'


async def test_proxytunnel_host_removal_auto_referer_and_tr_encoding(
    raw_server: MakeServer,
) -> None:
    """-p tunnels an http URL (CONNECT, then origin form), -H "Host:" sends no Host,
    -e ";auto" sends the redirecting URL on each hop, --tr-encoding asks for and
    undoes a gzip transfer coding (curl 7.88's request fields)."""
    import gzip

    async def proxy(conn: RawConnection) -> None:
        head, _ = await read_message(conn)
        assert head.startswith(b"CONNECT 127.0.0.1:")
        await conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
        inner, _ = await read_message(conn)
        await conn.send(response(inner.split(b"\r\n")[0]))

    tunnel = await raw_server(proxy)
    run = await cli("-s", "-p", "-x", tunnel.url(), "http://127.0.0.1:9/inside")
    assert (run.code, run.out) == (0, b"GET /inside HTTP/1.1")

    server = await raw_server(routes({"/": response(b"")}))
    await cli("-s", "-H", "Host:", server.url())
    assert field_values(server.requests[0], "host") == []

    hop = response(b"", "Location: /two", status="302 Found")
    server = await raw_server(answer(hop, response(b"")))
    await cli("-s", "-L", "-e", ";auto", server.url("/one"))
    assert field_values(server.requests[0], "referer") == []
    assert field_values(server.requests[1], "referer") == [server.url("/one")]

    coded = b"%x\r\n%s\r\n0\r\n\r\n"
    packed = gzip.compress(b"unpacked", mtime=0)
    server = await raw_server(
        answer(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
            + coded % (len(packed), packed)
        )
    )
    run = await cli("-s", "--tr-encoding", server.url())
    assert (run.code, run.out) == (0, b"unpacked")
    assert field_values(server.requests[0], "te") == ["gzip"]
    assert field_values(server.requests[0], "connection") == ["TE"]


async def test_write_out_to_files_and_back_to_stdout(
    raw_server: MakeServer, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "log").write_text("old\n")
    server = await raw_server(routes({"/": response(b"body")}))
    fmt = "a%output{w.txt}b%{http_code}%output{>>log}c%{stdout}d\\n"
    run = await cli("-s", "-w", fmt, server.url(), cwd=tmp_path)
    assert (run.code, run.out) == (0, b"bodyad\n")
    assert (tmp_path / "w.txt").read_text() == "b200"
    assert (tmp_path / "log").read_text() == "old\nc"
