"""The command line: curl's option names parsed with argparse, and the checks on
their values that argparse cannot make (a usage error exits 2)."""

from __future__ import annotations

import argparse
import sys

from rawhttp import __version__

__all__ = ["build_parser", "parse_args"]


def _form_data(value: str) -> tuple[str, bool]:
    """-d DATA: (DATA, strip newlines from an @FILE)"""
    return value, True


def _binary_data(value: str) -> tuple[str, bool]:
    """--data-binary DATA: (DATA, strip nothing)"""
    return value, False


def _trace_file(value: str) -> tuple[str, bool]:
    """--trace FILE: (FILE, not ASCII only)"""
    return value, False


def _trace_ascii_file(value: str) -> tuple[str, bool]:
    """--trace-ascii FILE: (FILE, ASCII only)"""
    return value, True


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rawhttp",
        usage="rawhttp [options] URL",
        description="Fetch a URL over HTTP/1.1, with curl's option names and exit codes.",
        add_help=False,
        allow_abbrev=False,
    )
    a = p.add_argument
    a("url", metavar="URL", help="the URL to fetch (http:// or https://)")
    a("-X", "--request", metavar="METHOD", help="request method (default GET, or POST with data)")
    a(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'Name: value'",
        help='extra header, repeatable; "Name:" removes a default header, "Name;" sends it empty',
    )
    # -d and --data-binary share one list, so the parts are joined in command-line order
    data_options = (
        (
            ("-d", "--data"),
            _form_data,
            "form data for a POST, repeatable (joined with &); @FILE reads a file without newlines",
        ),
        (
            ("--data-binary",),
            _binary_data,
            "data sent exactly as given; @FILE reads a file as it is",
        ),
    )
    for flags, kind, text in data_options:
        a(*flags, action="append", dest="data", default=[], type=kind, metavar="DATA", help=text)
    a(
        "--json",
        action="append",
        default=[],
        metavar="DATA",
        help="JSON body (@FILE reads a file); sets Content-Type and Accept to application/json",
    )
    a(
        "-o",
        "--output",
        metavar="FILE",
        help="write the body to FILE instead of stdout (- is stdout)",
    )
    a(
        "-O",
        "--remote-name",
        action="store_true",
        help="write the body to a file named like the URL's",
    )
    a("-i", "--include", action="store_true", help="include the response head in the output")
    a("-I", "--head", action="store_true", help="send HEAD and show the response head only")
    a("-L", "--location", action="store_true", help="follow redirects")
    for code in (301, 302, 303):
        a(
            f"--post{code}",
            action="store_true",
            help=f"with -L, keep a POST (and its body) after a {code} instead of changing to GET",
        )
    a(
        "--max-redirs",
        type=int,
        default=50,
        metavar="NUM",
        help="most redirects to follow (default 50)",
    )
    a("-m", "--max-time", type=float, metavar="SECONDS", help="time limit for the whole transfer")
    a("--connect-timeout", type=float, metavar="SECONDS", help="time limit for connecting")
    a("-k", "--insecure", action="store_true", help="do not verify the server's certificate")
    a("--cacert", metavar="FILE", help="CA bundle (PEM) to verify the server with")
    a("-u", "--user", metavar="USER:PASSWORD", help="Basic authentication")
    a("-A", "--user-agent", metavar="NAME", help="User-Agent to send")
    a("-f", "--fail", action="store_true", help="exit 22 without output on HTTP errors (>= 400)")
    a("-s", "--silent", action="store_true", help="no progress meter and no error messages")
    a("-S", "--show-error", action="store_true", help="with -s, still show error messages")
    a("-v", "--verbose", action="store_true", help="show the request and response heads on stderr")
    a(
        "-w",
        "--write-out",
        metavar="FORMAT",
        help="after the transfer, write FORMAT with %%{variables} on stdout (@FILE reads it)",
    )
    # --trace and --trace-ascii share one destination: the last one given wins, as in curl
    a(
        "--trace",
        dest="trace",
        type=_trace_file,
        metavar="FILE",
        help="write every byte sent and received to FILE, in hex and text (- is stdout)",
    )
    a(
        "--trace-ascii",
        dest="trace",
        type=_trace_ascii_file,
        metavar="FILE",
        help="like --trace, as text only",
    )
    a("--trace-time", action="store_true", help="time stamps on --trace and -v lines")
    a("-x", "--proxy", metavar="URL", help='use this http proxy ("" uses none)')
    a(
        "--noproxy",
        metavar="LIST",
        help="comma-separated hosts to reach without the proxy (* for all)",
    )
    a("--compressed", action="store_true", help="ask for a compressed response and decode it")
    a(
        "--unix-socket",
        metavar="PATH",
        help="connect to this Unix domain socket instead of the host",
    )
    a(
        "-V",
        "--version",
        action="version",
        version=f"rawhttp {__version__} (Python {sys.version.split()[0]})",
    )
    a("-h", "--help", action="help", help="show this help and exit")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options of ``argv`` (sys.argv without the program name by default)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for option, value in (
        ("--max-time", args.max_time),
        ("--connect-timeout", args.connect_timeout),
    ):
        # not "value < 0": NaN must be refused too (and infinity, which is no number of seconds)
        if value is not None and not 0 <= value < float("inf"):
            parser.error(f"argument {option}: expected a number of seconds >= 0, not {value}")
    if args.output is not None and args.remote_name:
        args.remote_name = False  # -o names the file
    return args
