"""The command's exit codes for responses that break HTTP/1.1, chosen from the error's
``rule`` (and an URL's ``reason``) as curl chooses them: an unsupported scheme (1),
bad chunking (56), a cut-off head (18, or 52 inside the status line), a transfer
coding not ending in chunked (61), odd status lines (1).

Each case runs ``python -m rawhttp -sS`` against a raw loopback server replaying the
bytes, then curl against the same server when it is installed.  The expected codes
are written down (measured with curl 7.88.1), so a case checks the command even
without curl; where curl 7.88.1 exits otherwise (it accepts what rawhttp refuses),
its own code is written down too and checked, as a recorded difference.
"""

from __future__ import annotations

import asyncio
import gzip
import pathlib
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
from conftest import RawServer, refused_port, replay

import rawhttp

MakeServer = Callable[..., Awaitable[RawServer]]
PACKAGE_DIR = pathlib.Path(rawhttp.__file__).parent
CURL = shutil.which("curl")


@pytest.fixture(scope="module", autouse=True)
def compiled_package() -> None:
    """Write the .pyc files once (this machine sets PYTHONDONTWRITEBYTECODE), so that
    each start of the command does not recompile rawhttp."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(PACKAGE_DIR)], check=True)


@dataclass
class Run:
    code: int
    out: bytes
    err: bytes
    seconds: float


async def run(*command: str, timeout: float = 30.0) -> Run:
    """Run a command to completion while this event loop keeps serving."""
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.communicate()
        raise
    assert proc.returncode is not None
    return Run(proc.returncode, out, err, time.monotonic() - start)


async def cli(*args: str) -> Run:
    """``python -m rawhttp ARGS``; stderr never holds a traceback."""
    result = await run(sys.executable, "-m", "rawhttp", *args)
    assert b"Traceback" not in result.err, result.err.decode(errors="replace")
    return result


def assert_error(result: Run, code: int, words: str) -> None:
    """Exit status ``code`` and one line ``rawhttp: (code) message``, the message
    beginning with curl's ``words``."""
    assert result.code == code, (result.code, result.err)
    assert re.fullmatch(rb"rawhttp: \(%d\) [^\n]+\n" % code, result.err), result.err
    assert result.err.startswith(b"rawhttp: (%d) %s" % (code, words.encode())), result.err


async def compare_with_curl(url: str, code: int, words: str | None) -> None:
    """curl 7.88.1's exit code for ``url`` (and its words, when given); a skip saying
    why when curl is not installed (the command was checked before)."""
    if CURL is None:
        pytest.skip("curl is not installed: the command's code was checked, curl's cannot be")
    result = await run(CURL, "-sS", url)
    assert result.code == code, (result.code, result.err)
    if words is not None:
        assert words.encode() in result.err, result.err


CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
GZIPPED = gzip.compress(b"hello")


@dataclass
class Case:
    name: str
    reply: bytes
    code: int
    words: str
    """curl's words, which begin the command's message."""
    curl: int | None = None
    """curl 7.88.1's code when it differs (it accepts the reply, 0, or reports it otherwise)."""
    curl_words: str | None = ""
    """curl's own message when it differs from ``words``; None: not checked."""


CASES = [
    # bad chunking: 56
    Case(
        "chunk size not hex",
        CHUNKED + b"zz\r\nhello\r\n0\r\n\r\n",
        56,
        "Illegal or missing hexadecimal sequence in chunked-encoding",
    ),
    Case(
        "chunk size negative",
        CHUNKED + b"5\r\nhello\r\n-1\r\n\r\n",
        56,
        "Illegal or missing hexadecimal sequence in chunked-encoding",
    ),
    Case(
        "chunk data without its line ending",
        CHUNKED + b"5\r\nhelloXX0\r\n\r\n",
        56,
        "Malformed encoding found in chunked-encoding",
    ),
    Case(
        "malformed trailer",
        CHUNKED + b"5\r\nhello\r\n0\r\nbad trailer\r\n\r\n",
        56,
        "Failed reading the chunked-encoded stream",
        curl=43,  # CURLE_BAD_FUNCTION_ARGUMENT: curl's words, not its code
    ),
    # a cut-off head: 18, or 52 while the status line is not whole (as curl)
    Case(
        "head cut after a Content-Length",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n",
        18,
        "Transferred a partial file",
        curl_words="transfer closed with 5 bytes remaining to read",
    ),
    Case(
        "head cut after a field line",
        b"HTTP/1.1 200 OK\r\nX-A: b\r\n",
        18,
        "Transferred a partial file",
        curl=0,  # curl 7.88.1 takes it for a complete response with an empty body
    ),
    Case(
        "head cut inside a field line",
        b"HTTP/1.1 200 OK\r\nContent-Len",
        18,
        "Transferred a partial file",
        curl=0,
    ),
    Case("head cut inside the status line", b"HTTP/1.1 2", 52, "Empty reply from server"),
    Case("status line without its line ending", b"HTTP/1.1 200 OK", 52, "Empty reply from server"),
    Case("no reply", b"", 52, "Empty reply from server"),
    # a transfer coding not ending in chunked: 61
    Case(
        "Transfer-Encoding: gzip",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
        61,
        "Error while processing content unencoding",
    ),
    Case(
        "Transfer-Encoding: chunked, gzip",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        61,
        "Error while processing content unencoding",
    ),
    Case(
        "Transfer-Encoding: foo",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: foo\r\n\r\nhello",
        61,
        "Error while processing content unencoding",
        curl_words="Unrecognized content encoding type",
    ),
    Case(
        "Transfer-Encoding: gzip, chunked (valid)",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        + b"%x\r\n" % len(GZIPPED)
        + GZIPPED
        + b"\r\n0\r\n\r\n",
        61,
        "Error while processing content unencoding",
        curl=0,  # curl decodes transfer codings; rawhttp only with a TE field asking
    ),
    # odd status lines: 1
    Case(
        "ICY 200 OK",
        b"ICY 200 OK\r\nContent-Length: 2\r\n\r\nok",
        1,
        "Received HTTP/0.9 when not allowed",
    ),
    Case("not HTTP at all", b"HELLO THERE\r\n\r\n", 1, "Received HTTP/0.9 when not allowed"),
    Case(
        "HTTP/1.1 20",
        b"HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok",
        1,
        "Unsupported response code in HTTP response",
    ),
    Case(
        "HTTP/1.1 099",
        b"HTTP/1.1 099 x\r\nContent-Length: 2\r\n\r\nok",
        1,
        "Unsupported response code in HTTP response",
    ),
    Case(
        "HTTP/1.1 600",
        b"HTTP/1.1 600 x\r\nContent-Length: 2\r\n\r\nok",
        1,
        "Unsupported response code in HTTP response",
        curl=0,  # curl takes any three digits from 100
    ),
    Case(
        "HTTP/3.0 200",
        b"HTTP/3.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        1,
        "Unsupported HTTP version",
        curl_words="Unsupported HTTP version (3.0) in response",
    ),
    Case(
        "HTTP/2.0 200",
        b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        1,
        "Unsupported HTTP version in response",
        curl=0,  # curl 7.88.1 built with HTTP/2 takes it for an HTTP/2 response
    ),
    Case(
        "HTTP/2 200",
        b"HTTP/2 200\r\nContent-Length: 2\r\n\r\nok",
        1,
        "Unsupported HTTP version in response",
        curl=0,
    ),
    # the rest as before: 8 and 18
    Case(
        "header line without a colon",
        b"HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 2\r\n\r\nok",
        8,
        "Weird server reply",
        curl_words="Header without colon",
    ),
    Case(
        "Content-Length not a number",
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhello",
        8,
        "Weird server reply",
        curl_words="Invalid Content-Length",
    ),
    Case(
        "Content-Length and Transfer-Encoding",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n0\r\n\r\n",
        8,
        "Weird server reply",
        curl=0,  # curl 7.88.1 uses the chunked framing
    ),
    Case(
        "body cut",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhello",
        18,
        "Transferred a partial file",
        curl_words="transfer closed with 95 bytes remaining to read",
    ),
    Case(
        "chunked body cut",
        CHUNKED + b"5\r\nhello\r\na\r\nwor",
        18,
        "Transferred a partial file",
        curl_words="transfer closed with outstanding read data remaining",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_exit_code_as_curl(raw_server: MakeServer, case: Case) -> None:
    server = await raw_server(replay(case.reply, close=True))
    assert_error(await cli("-sS", server.url()), case.code, case.words)
    curl_code = case.code if case.curl is None else case.curl
    if case.curl == 0:
        curl_words = None
    elif case.curl_words == "":
        curl_words = case.words
    else:
        curl_words = case.curl_words
    await compare_with_curl(server.url(), curl_code, curl_words)


@pytest.mark.parametrize("scheme", ["foo", "FOO", "gopher2"])
async def test_unsupported_scheme(scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{refused_port()}/"
    assert_error(await cli("-sS", url), 1, f'Protocol "{scheme.lower()}" not supported')
    await compare_with_curl(url, 1, f'Protocol "{scheme.lower()}" not supported')


async def test_a_scheme_curl_has_and_rawhttp_has_not() -> None:
    """ftp: curl here would connect; rawhttp says it does not support it, as a curl
    built without ftp does (exit 1)."""
    url = f"ftp://127.0.0.1:{refused_port()}/"
    assert_error(await cli("-sS", url), 1, 'Protocol "ftp" not supported')


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999/", "http://127.0.0.1:x/", "http://exa mple.com/"]
)
async def test_other_bad_urls_stay_3(url: str) -> None:
    assert_error(await cli("-sS", url), 3, "URL rejected")
    await compare_with_curl(url, 3, None)


# -- the mapping itself, from plain values ----------------------------------------------

RULE_CODES = {
    "protocol": 8,
    "status-line": 1,
    "http-version": 1,
    "status-code": 1,
    "reason-phrase": 8,
    "status-line-incomplete": 52,
    "header-line": 8,
    "header-value": 8,
    "obs-fold": 8,
    "head-incomplete": 18,
    "upgrade": 8,
    "content-length": 8,
    "framing": 8,
    "transfer-coding": 61,
    "chunk-size": 56,
    "chunk-data": 56,
    "trailer": 56,
    "no-response": 52,
    "body-incomplete": 18,
    "limit": 8,
}


def test_every_rule_has_its_code() -> None:
    """Each rule the library can name (its docstring's table) has the code above; the
    message's words do not change it (the same words under every rule)."""
    from rawhttp.cli._exit import exit_code

    documented = set(re.findall(r'``"([a-z0-9-]+)"``', rawhttp.ProtocolError.__doc__ or ""))
    assert documented == set(RULE_CODES)
    for rule, code in RULE_CODES.items():
        error = rawhttp.ProtocolError("malformed chunk size line", rule=rule)  # type: ignore[arg-type]
        assert exit_code(error)[0] == code, rule
    assert exit_code(rawhttp.NoResponse("x")) == (52, "Empty reply from server")
    assert exit_code(rawhttp.IncompleteBody("x", received=1))[0] == 18


def test_url_reasons_have_their_code() -> None:
    from rawhttp.cli._exit import exit_code

    scheme = rawhttp.InvalidURL("unsupported URL scheme", reason="scheme", scheme="gopher")
    assert exit_code(scheme) == (1, 'Protocol "gopher" not supported')
    assert exit_code(rawhttp.InvalidURL("x", reason="scheme")) == (1, "Protocol not supported")
    for reason in ("host", "port", "syntax"):
        error = rawhttp.InvalidURL("unsupported URL scheme", reason=reason)
        assert exit_code(error) == (3, "URL rejected: unsupported URL scheme")


async def test_a_redirect_to_an_unsupported_scheme(raw_server: MakeServer) -> None:
    reply = b"HTTP/1.1 302 Found\r\nLocation: foo://127.0.0.1/x\r\nContent-Length: 0\r\n\r\n"
    server = await raw_server(replay(reply, close=True))
    assert_error(await cli("-sS", "-L", server.url()), 1, 'Protocol "foo" not supported')
    if CURL is None:
        pytest.skip("curl is not installed: the command's code was checked, curl's cannot be")
    result = await run(CURL, "-sS", "-L", server.url())
    assert result.code == 1, result.err
    assert b"The redirect target URL could not be parsed: Unsupported URL scheme" in result.err
