"""The command's --retry rules (rawhttp/cli/_retry.py): what curl 7.88 counts as
transient, its waits, the --retry-max-time budget and its warning lines, checked
with plain values, and the warning compared with curl's own where curl is installed."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable

import pytest
from conftest import RawServer, always, refused_port

import rawhttp
from rawhttp.cli._exit import CliError
from rawhttp.cli._retry import RetryRules, retry_after_seconds, warning_lines

MakeServer = Callable[..., Awaitable[RawServer]]

REFUSED = rawhttp.ConnectError("refused", reason="refused")
# curl 7.88.1's exact stderr lines (measured on loopback; kept for machines without curl)
CURL_REFUSED = (
    "Warning: Problem : connection refused. Will retry in 1 seconds. 1 retries \nWarning: left.\n"
)
CURL_ALL = (
    "Warning: Problem (retrying all errors). Will retry in 1 seconds. 1 retries \nWarning: left.\n"
)
CURL_HTTP = "Warning: Problem : HTTP error. Will retry in 1 seconds. 3 retries left.\n"
CURL_EXCEEDS = (
    "Warning: The Retry-After: time would make this command line exceed the maximum \n"
    "Warning: allowed time for retries.\n"
)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_transient_statuses(status: int) -> None:
    rules = RetryRules(retries=1)
    assert rules.kind(status=status) == "HTTP error"
    # -f turned it into exit 22: still the status that counts
    assert rules.kind(error=CliError(22, "error"), status=status) == "HTTP error"


@pytest.mark.parametrize("status", [200, 301, 400, 401, 404, 501, 505])
def test_other_statuses_are_not_transient(status: int) -> None:
    assert RetryRules(retries=1).kind(status=status) is None
    # --retry-all-errors: a response that did not fail is no error (no -f)
    assert RetryRules(retries=1, all_errors=True).kind(status=status) is None
    # with -f it failed: retried as any error
    failed = CliError(22, "error")
    assert RetryRules(retries=1, all_errors=True).kind(error=failed, status=status) == "all errors"


def test_errors_are_sorted_by_type_and_data() -> None:
    plain = RetryRules(retries=1)
    assert plain.kind(error=rawhttp.ReadTimeout("slow")) == "timeout"
    assert plain.kind(error=rawhttp.ConnectTimeout("slow")) == "timeout"
    assert plain.kind(error=rawhttp.ConnectError("x", reason="resolve")) == "timeout"
    assert plain.kind(error=REFUSED) is None
    assert plain.kind(error=rawhttp.ReadError("reset")) is None
    assert plain.kind(error=rawhttp.TLSError("no", reason="certificate")) is None
    # a cut-off body after a 503 head: the error counts, not the status
    cut = rawhttp.IncompleteBody("cut", received=1, expected=9)
    assert plain.kind(error=cut, status=503) is None
    assert RetryRules(retries=1, connrefused=True).kind(error=REFUSED) == "connection refused"
    assert RetryRules(retries=1, all_errors=True).kind(error=REFUSED) == "all errors"
    assert RetryRules(retries=1, all_errors=True).kind(error=cut, status=503) == "all errors"
    # a refused connection is only "refused" by its reason, never its message
    worded = rawhttp.ConnectError("connection refused", reason="connect")
    assert RetryRules(retries=1, connrefused=True).kind(error=worded) is None


def test_backoff_doubles_to_ten_minutes_or_is_fixed() -> None:
    rules = RetryRules(retries=20)
    assert [rules.backoff(n) for n in range(12)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 600, 600,
    ]  # fmt: skip
    assert rules.backoff(10_000) == 600
    assert [RetryRules(retries=5, delay=3).backoff(n) for n in range(3)] == [3, 3, 3]


def test_decide_counts_retries_and_the_budget() -> None:
    rules = RetryRules(retries=3)
    verdict = rules.decide(0, 0.0, status=503)
    assert verdict.retry
    assert verdict.wait == 1
    assert verdict.warning == CURL_HTTP
    third = rules.decide(2, 0.0, status=503)
    assert third.retry
    assert third.wait == 4
    assert "1 retries left." in third.warning
    assert not rules.decide(3, 0.0, status=503).retry  # all 3 made
    assert rules.decide(0, 0.0, status=200) == (False, 0.0, "")
    limited = RetryRules(retries=3, max_time=10)
    assert limited.decide(0, 9.9, status=503).retry
    assert not limited.decide(0, 10.0, status=503).retry  # curl: elapsed < max-time
    assert not RetryRules(retries=0).decide(0, 0.0, status=503).retry


def test_retry_after() -> None:
    rules = RetryRules(retries=1)
    verdict = rules.decide(0, 0.0, status=503, retry_after="7")
    assert verdict.wait == 7
    assert "Will retry in 7 seconds. 1 retries left." in verdict.warning
    # only for an HTTP error; 0 or junk: the backoff
    assert rules.decide(0, 0.0, error=rawhttp.ReadTimeout("x"), retry_after="7").wait == 1
    assert rules.decide(0, 0.0, status=503, retry_after="0").wait == 1
    assert rules.decide(0, 0.0, status=503, retry_after="soon").wait == 1
    # --retry-delay does not override it (measured: "Will retry in 1 seconds" with 3)
    assert RetryRules(retries=1, delay=3).decide(0, 0.0, status=503, retry_after="1").wait == 1
    # past --retry-max-time: no retry, and curl's warning
    limited = RetryRules(retries=1, max_time=5)
    assert limited.decide(0, 0.0, status=503, retry_after="20") == (False, 0.0, CURL_EXCEEDS)
    assert limited.decide(0, 1.5, status=503, retry_after="4").retry  # 1 + 4 is not past 5
    assert not limited.decide(0, 2.0, status=503, retry_after="4").retry


def test_retry_after_values() -> None:
    now = 1_924_991_990.0  # 10 s before 2031-01-01 00:00:00 GMT
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(" 1x") == 1  # curl reads the leading digits
    assert retry_after_seconds("Wed, 01 Jan 2031 00:00:00 GMT", now=now) == 10
    assert retry_after_seconds("Wed, 01 Jan 2031 00:00:00", now=now) == 10  # GMT
    assert retry_after_seconds("Wed, 01 Jan 2020 00:00:00 GMT", now=now) == 0  # past
    assert retry_after_seconds("") == 0
    assert retry_after_seconds("-5") == 0


def test_warning_lines_wrap_as_curl() -> None:
    assert RetryRules(retries=1, connrefused=True).decide(0, 0, error=REFUSED).warning == (
        CURL_REFUSED
    )
    assert RetryRules(retries=1, all_errors=True).decide(0, 0, error=REFUSED).warning == (CURL_ALL)
    assert warning_lines("short") == "Warning: short\n"
    long_word = "x" * 150
    assert warning_lines(long_word) == (
        f"Warning: {'x' * 70}\nWarning: {'x' * 70}\nWarning: {'x' * 10}\n"
    )


async def run_curl(*args: str) -> str:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed: its warnings cannot be compared")
    proc = await asyncio.create_subprocess_exec(
        curl, *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    text = err.decode().replace("\r", "\n")
    return "".join(line + "\n" for line in text.split("\n") if line.startswith("Warning:"))


async def test_warnings_match_curl(raw_server: MakeServer) -> None:
    """curl's own lines for a refused connection and for a 503 (one retry each, 1 s)."""
    refused = f"http://127.0.0.1:{refused_port()}/"
    got = await run_curl("--retry", "1", "--retry-connrefused", "--retry-delay", "1", refused)
    assert got == CURL_REFUSED
    ours = RetryRules(retries=1, connrefused=True, delay=1).decide(0, 0.0, error=REFUSED)
    assert ours.warning == got
    server = await raw_server(always(b"HTTP/1.1 503 No\r\nContent-Length: 0\r\n\r\n"))
    got = await run_curl("--retry", "3", "--retry-max-time", "1", "-o", "-", server.url())
    assert got == CURL_HTTP
    assert RetryRules(retries=3, max_time=1).decide(0, 0.0, status=503).warning == got
