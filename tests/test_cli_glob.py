"""URL globbing for the ``rawhttp`` command (rawhttp/cli/_glob.py), as curl does it:
the URLs a glob stands for and their order, curl's refusals (message, position and
caret line), IPv6 literals left alone, ``#N`` in ``-o`` names, and the bounds (lazy
expansion, "too many globs", "range overflow").

Every expected value is written here (measured with curl 7.88.1); where that curl is
installed the same cases are run through it too.  curl needs no server for this:
``--proto -all`` makes each transfer fail before any connection, after curl has
expanded the URL and written ``-w '%{url}'`` for each one."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from rawhttp.cli._exit import CliError
from rawhttp.cli._glob import MAX_URLS, GlobbedURL, expand, output_name

REFERENCE = b"curl 7.88.1 "

EXPANSIONS: list[tuple[str, list[str]]] = [
    ("http://x/a", ["http://x/a"]),
    ("http://x/{a,b,c}", ["http://x/a", "http://x/b", "http://x/c"]),
    ("http://x/{a}", ["http://x/a"]),
    (
        "http://x/{a,,b}/{,}",
        ["http://x/a/", "http://x/a/", "http://x//", "http://x//"] + ["http://x/b/"] * 2,
    ),
    ("http://x/[1-3]", ["http://x/1", "http://x/2", "http://x/3"]),
    ("http://x/[8-11]", ["http://x/8", "http://x/9", "http://x/10", "http://x/11"]),
    ("http://x/[001-003]", ["http://x/001", "http://x/002", "http://x/003"]),
    ("http://x/[01-100:45]", ["http://x/01", "http://x/46", "http://x/91"]),
    ("http://x/[1-010]", [f"http://x/{n}" for n in range(1, 11)]),  # only the low end pads
    ("http://x/[1- 3:2]", ["http://x/1", "http://x/3"]),  # blanks after '-' are skipped
    ("http://x/[1-3:+1]", ["http://x/1", "http://x/2", "http://x/3"]),  # strtoul's sign
    ("http://x/[a-e:2]", ["http://x/a", "http://x/c", "http://x/e"]),
    ("http://x/[A-C]", ["http://x/A", "http://x/B", "http://x/C"]),
    ("http://x/[Z-a:3]", ["http://x/Z", "http://x/]", "http://x/`"]),  # any 26 bytes
    ("http://x/[7-7]{q}", ["http://x/7q"]),
    (
        "http://x/{a,b}[1-2]x[c-d]",
        [f"http://x/{s}{n}x{c}" for s in "ab" for n in "12" for c in "cd"],  # last fastest
    ),
    ("http://x/\\{a,b\\}\\[1-2\\]", ["http://x/{a,b}[1-2]"]),  # escaped: no glob
    ("http://x/\\a\\\\", ["http://x/\\a\\\\"]),  # other backslashes stay
    ("http://x/{a\\,b,c\\}}", ["http://x/a,b", "http://x/c}"]),  # in a set, \x is x
    ("http://[::1]:8080/", ["http://[::1]:8080/"]),  # IPv6 literals are not globs
    ("http://[::1]:8080/{a,b}", ["http://[::1]:8080/a", "http://[::1]:8080/b"]),
    ("http://[fe80::1%25eth0]:8080/[1-2]", [f"http://[fe80::1%25eth0]:8080/{n}" for n in "12"]),
    ("http://[::ffff:127.0.0.1]/", ["http://[::ffff:127.0.0.1]/"]),
    ("http://[2001:db8::1]/x[::1]", ["http://[2001:db8::1]/x[::1]"]),  # anywhere in the URL
    ("http://x/[]", ["http://x/[]"]),
    ("http://x/é{é,ü}", ["http://x/éé", "http://x/éü"]),
]

ERRORS: list[tuple[str, str]] = [
    ("http://x/[1-", "bad range in URL position 13:\nhttp://x/[1-\n            ^"),
    ("http://x/[1-3", "bad range in URL position 13:\nhttp://x/[1-3\n            ^"),
    ("http://x/[3-1]", "bad range in URL position 15:\nhttp://x/[3-1]\n              ^"),
    ("http://x/[a-9]", "bad range in URL position 15:\nhttp://x/[a-9]\n              ^"),
    ("http://x/[a-C]", "bad range in URL position 15:\nhttp://x/[a-C]\n              ^"),
    ("http://x/[1-2:0]", "bad range in URL position 17:\nhttp://x/[1-2:0]\n                ^"),
    ("http://x/[1-2:5]", "bad range in URL position 17:\nhttp://x/[1-2:5]\n                ^"),
    ("http://x/[1-2:x]", "bad range in URL position 15:\nhttp://x/[1-2:x]\n              ^"),
    ("http://x/[1-2: ]", "bad range in URL position 15:\nhttp://x/[1-2: ]\n              ^"),
    ("http://x/[a-c:]", "bad range in URL position 11:\nhttp://x/[a-c:]\n          ^"),
    ("http://x/[1]", "bad range in URL position 11:\nhttp://x/[1]\n          ^"),
    ("http://x/[a]", "bad range in URL position 11:\nhttp://x/[a]\n          ^"),
    ("http://x/[1-2x]", "bad range in URL position 13:\nhttp://x/[1-2x]\n            ^"),
    (
        "http://x/[1-99999999999999999999]",
        "bad range in URL position 13:\nhttp://x/[1-99999999999999999999]\n            ^",
    ),
    (
        "http://x/[-1-2]",
        "bad range specification in URL position 11:\nhttp://x/[-1-2]\n          ^",
    ),
    ("http://x/[", "bad range specification in URL position 11:\nhttp://x/[\n          ^"),
    ("http://[1:2]:8/", "bad range in URL position 9:\nhttp://[1:2]:8/\n        ^"),
    ("http://x/{a,b", "unmatched brace in URL position 10:\nhttp://x/{a,b\n         ^"),
    ("http://x/{a,{b}}", "nested brace in URL position 13:\nhttp://x/{a,{b}}\n            ^"),
    ("http://x/{a,[1-2]}", "nested brace in URL position 13:\nhttp://x/{a,[1-2]}\n            ^"),
    (
        "http://x/{a,]}",
        "unexpected close bracket in URL position 13:\nhttp://x/{a,]}\n            ^",
    ),
    ("http://x/{}", "empty string within braces in URL position 11:\nhttp://x/{}\n          ^"),
    ("http://x/a]", "unmatched close brace/bracket in URL position 11:\nhttp://x/a]\n          ^"),
    ("}", "unmatched close brace/bracket in URL position 1:\n}\n ^"),  # never no space
    # curl's counter skips the "}" closing a set and the bytes of an IPv6 literal
    (
        "http://x/{a,b}{c}}",
        "unmatched close brace/bracket in URL position 16:\nhttp://x/{a,b}{c}}\n" + " " * 15 + "^",
    ),
    (
        "http://[::1]/]",
        "unmatched close brace/bracket in URL position 9:\nhttp://[::1]/]\n        ^",
    ),
    # and counts bytes, not characters
    ("http://x/é}", "unmatched close brace/bracket in URL position 12:\nhttp://x/é}\n           ^"),
    (
        "http://x/[0-4294967295][0-4294967295]",
        "range overflow in URL position 38:\nhttp://x/[0-4294967295][0-4294967295]\n"
        + " " * 37
        + "^",
    ),
    ("http://x/[1-9223372036854775807]{a,b,c}", "range overflow"),  # a set's: no position
]
TOO_MANY = "{a}x" * 50  # 100 pieces: the last "x" is one too many
ERRORS.append((TOO_MANY, f"too many globs in URL position 151:\n{TOO_MANY}\n" + " " * 150 + "^"))

OUTPUT_NAMES: list[tuple[str, str, list[str]]] = [
    ("http://x/{a,b}[1-2]", "f#1_#2.txt", ["fa_1.txt", "fa_2.txt", "fb_1.txt", "fb_2.txt"]),
    ("http://x/{a,b}", "#1#1-#01-#0-#2-##1-#", ["aa-a-#0-#2-#a-#", "bb-b-#0-#2-#b-#"]),
    (
        "http://x/[8-9]",
        "#18446744073709551617#1",
        ["#184467440737095516178", "#184467440737095516179"],
    ),
    ("http://x/a", "x#1", ["x#1"]),  # no glob: left alone
    ("http://x/{c}[a-b]{d/e}", "#3/#2#1", ["d/e/ac", "d/e/bc"]),
]


@functools.cache
def curl_path() -> str:
    """curl, when it is the one the values above were measured with."""
    path = shutil.which("curl")
    if path is None:
        pytest.skip("curl is not installed: only the values written here are checked")
    version = subprocess.run([path, "--version"], capture_output=True, timeout=30).stdout
    if not version.startswith(REFERENCE):
        pytest.skip(f"the values here are curl 7.88.1's, this is {version[:20]!r}")
    return path


def run_curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    """curl with no config file and every protocol disabled: no connection is made."""
    command = [curl_path(), "-q", "--proto", "-all", "-s", "-S", *args]
    return subprocess.run(command, capture_output=True, timeout=60, check=False)


def error_of(url: str) -> str:
    with pytest.raises(CliError) as caught:
        expand(url)
    assert caught.value.code == 3
    return str(caught.value)


@pytest.mark.parametrize(("url", "urls"), EXPANSIONS)
def test_expansion(url: str, urls: list[str]) -> None:
    assert [g.url for g in expand(url)] == urls


def test_expansions_are_curls() -> None:
    urls = [url for url, _ in EXPANSIONS]
    done = run_curl("-w", "%{url}\\n", *urls)
    assert done.returncode == 1, done.stderr  # "protocol disabled", after globbing
    assert done.stdout.decode().splitlines() == [u for _, want in EXPANSIONS for u in want]


def test_values_and_indexing() -> None:
    found = expand("http://x/{a,b}/[01-03:2]")
    assert list(found) == [
        GlobbedURL("http://x/a/01", ("a", "01")),
        GlobbedURL("http://x/a/03", ("a", "03")),
        GlobbedURL("http://x/b/01", ("b", "01")),
        GlobbedURL("http://x/b/03", ("b", "03")),
    ]
    assert len(found) == 4
    assert found[-1] == found[3]
    assert found[1:3] == [found[1], found[2]]
    with pytest.raises(IndexError):
        found[4]
    assert list(expand("http://x/a")) == [GlobbedURL("http://x/a", ())]


def test_globoff_leaves_the_url_alone() -> None:
    url = "http://x/{a,b}[1-2]\\{"
    assert list(expand(url, globoff=True)) == [GlobbedURL(url, ())]
    assert [g.url for g in expand("http://x/}", globoff=True)] == ["http://x/}"]


def test_an_argv_byte_that_is_not_utf8_round_trips() -> None:
    url = os.fsdecode(b"http://x/\xff{a,b}")
    assert [g.url for g in expand(url)] == [
        os.fsdecode(b"http://x/\xffa"),
        os.fsdecode(b"http://x/\xffb"),
    ]


@pytest.mark.parametrize(("url", "message"), ERRORS)
def test_error(url: str, message: str) -> None:
    assert error_of(url) == message


def test_errors_are_curls() -> None:
    for url, message in ERRORS:
        done = run_curl("-o", os.devnull, url)
        assert (done.returncode, done.stderr.decode()) == (3, f"curl: (3) {message}\n"), url


def test_a_long_url_is_cut_in_the_message_as_curl_cuts_it() -> None:
    url = "http://x/" + "a" * 600 + "}"
    message = error_of(url)
    assert len(message.encode()) == 511
    assert message == f"unmatched close brace/bracket in URL position 610:\n{url}"[:511]
    done = run_curl(url)
    assert done.stderr.decode() == f"curl: (3) {message}\n"


def test_too_many_globs_counts_literal_text_too() -> None:
    assert len(expand("http://x/" + "{a}" * 98)) == 1  # 99 pieces
    assert len(expand("{a}x" * 49 + "{a}")) == 1
    assert error_of("http://x/" + "{a}" * 99).startswith("too many globs in URL position 208:")
    assert len(expand("http://[::1]/\\{" + "{a}" * 98)) == 1  # escapes and IPv6 are text


def test_expansion_is_lazy() -> None:
    started = time.monotonic()
    found = expand("http://x/[1-1000000000][000000001-999999999]")
    assert len(found) == 10**9 * 999999999
    assert found[-1].url == "http://x/1000000000999999999"
    assert found[999999999 * 5].url == "http://x/6000000001"
    assert next(iter(found)).url == "http://x/1000000001"
    assert time.monotonic() - started < 1.0


def test_the_count_is_bounded() -> None:
    """Our bound is 2**63 - 1 URLs (curl's is 2**64 - 1), so that len() works."""
    assert len(expand("http://x/[1-9223372036854775807]")) == MAX_URLS == 2**63 - 1
    assert error_of("http://x/[0-9223372036854775807]") == (
        "range overflow in URL position 33:\nhttp://x/[0-9223372036854775807]\n" + " " * 32 + "^"
    )
    assert error_of("http://x/[0-4611686018427387903]{a,b}") == "range overflow"


@pytest.mark.parametrize(("url", "template", "names"), OUTPUT_NAMES)
def test_output_name(url: str, template: str, names: list[str]) -> None:
    assert [output_name(template, g.values) for g in expand(url)] == names


def test_output_names_are_curls(tmp_path: Path) -> None:
    for url, template, names in OUTPUT_NAMES:
        where = f"{tmp_path}/"
        done = run_curl("-o", where + template, "-w", "%{filename_effective}\\n", url)
        assert done.stdout.decode().splitlines() == [where + name for name in names], url
    assert list(tmp_path.iterdir()) == []  # no transfer happened
