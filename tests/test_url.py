"""parse_url: schemes, hosts, ports, userinfo, percent-encoding and rejection of bad URLs."""

from __future__ import annotations

import pytest

import rawhttp
from rawhttp import InvalidURL
from rawhttp._url import URL, parse_url


def test_invalid_url_is_a_value_error() -> None:
    assert issubclass(InvalidURL, ValueError)
    assert issubclass(InvalidURL, rawhttp.Error)
    with pytest.raises(ValueError, match="scheme"):
        parse_url("ftp://example.com/")


# -- schemes and default ports -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://example.com", URL("http", "example.com", 80, "/")),
        ("http://example.com/", URL("http", "example.com", 80, "/")),
        ("https://example.com", URL("https", "example.com", 443, "/")),
        ("HTTP://EXAMPLE.COM/Path", URL("http", "example.com", 80, "/Path")),
        ("HtTpS://Example.Com:8443/A?B=C", URL("https", "example.com", 8443, "/A?B=C")),
        ("http://127.0.0.1:8000/x", URL("http", "127.0.0.1", 8000, "/x")),
        ("http://localhost./", URL("http", "localhost.", 80, "/")),
        ("http://a-b_c.example/", URL("http", "a-b_c.example", 80, "/")),
        ("http://example.com?q=1", URL("http", "example.com", 80, "/?q=1")),
        ("http://example.com/a/../b/./c//", URL("http", "example.com", 80, "/b/c//")),
    ],
)
def test_parse_valid(url: str, expected: URL) -> None:
    assert parse_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "ws://example.com/",
        "wss://example.com/",
        "file:///etc/passwd",
        "httpx://example.com/",
        "mailto:user@example.com",
        "example.com",
        "example.com/path",
        "//example.com/",
        "/path",
        "http:/example.com/",
        "http:example.com",
        "http:",
        "",
        " http://example.com/",
        "1http://example.com/",
    ],
)
def test_unsupported_or_missing_scheme(url: str) -> None:
    with pytest.raises(InvalidURL):
        parse_url(url)


@pytest.mark.parametrize("url", [b"http://example.com/", None, 5])
def test_non_str_rejected(url: object) -> None:
    with pytest.raises(InvalidURL, match="must be a str"):
        parse_url(url)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("http://example.com", "http://example.com/"),
        ("https://example.com:443/a?b", "https://example.com/a?b"),
        ("http://example.com:8080/a b", "http://example.com:8080/a%20b"),
        ("http://user:secret@example.com/", "http://example.com/"),
        ("http://[::1]:8080/p#frag", "http://[::1]:8080/p"),
    ],
)
def test_str_leaves_out_userinfo_and_fragment(url: str, text: str) -> None:
    assert str(parse_url(url)) == text


# -- hosts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://b\u00fccher.de/", "xn--bcher-kva.de"),
        ("http://B\u00dcCHER.de/", "xn--bcher-kva.de"),
        ("http://\u4f8b\u3048.jp/", "xn--r8jz45g.jp"),
        ("http://\u2603.net/", "xn--n3h.net"),
        ("http://m\u00fcnchen.example.COM/", "xn--mnchen-3ya.example.com"),
    ],
)
def test_idna_hosts(url: str, host: str) -> None:
    parsed = parse_url(url)
    assert parsed.host == host
    assert parsed.host_header == host


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [
        ("http://[::1]/", "::1", 80),
        ("http://[::1]:8080/", "::1", 8080),
        ("https://[::1]/", "::1", 443),
        ("http://[2001:DB8:0:0:0:0:0:1]/", "2001:db8::1", 80),
        # RFC 5952 section 5 (mixed notation), the same on every Python version
        ("http://[::ffff:192.0.2.1]/", "::ffff:192.0.2.1", 80),
        ("http://[::FFFF:C000:0201]/", "::ffff:192.0.2.1", 80),
        ("http://[::1]:/", "::1", 80),
    ],
)
def test_ipv6_literals(url: str, host: str, port: int) -> None:
    parsed = parse_url(url)
    assert (parsed.host, parsed.port, parsed.is_ipv6) == (host, port, True)
    assert parsed.host_header == (f"[{host}]" if port in (80, 443) else f"[{host}]:{port}")


def test_ipv4_is_not_ipv6() -> None:
    assert parse_url("http://192.0.2.1/").is_ipv6 is False


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/",
        "http://[::1",
        "http://[]/",
        "http://[:::1]/",
        "http://[1.2.3.4]/",
        "http://[example.com]/",
        "http://[::g]/",
        "http://[::1]x/",
        "http://[::1]:80x/",
        "http://[fe80::1%25eth0]/",
        "http://[fe80::1%eth0]/",
        "http://::1/",
        "http://2001:db8::1/",
        "http://[v1.abc]/",
    ],
)
def test_invalid_ipv6(url: str) -> None:
    with pytest.raises(InvalidURL):
        parse_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http:///path",
        "http://",
        "http://:80/",
        "http://user@/",
        "http://user:pw@:80/",
        "http://exa mple.com/",
        "http://a..b/",
        "http://.a/",
        "http://../",
        "http://./",
        "http://ex!ample.com/",
        "http://ex%41mple.com/",
        "http://ex\\ample.com/",
        'http://exa"mple.com/',
        "http://ex<ample>.com/",
        "http://ex*ample.com/",
        "http://exa[mple.com/",
        "http://" + "a" * 64 + ".com/",
        "http://" + "\u00fc" * 64 + ".de/",  # cannot be IDNA-encoded: label too long
        "http://exa\u00a0mple.com/",
        "http://example.com\u3000/",
    ],
)
def test_invalid_hosts(url: str) -> None:
    with pytest.raises(InvalidURL):
        parse_url(url)


def test_longest_label_accepted() -> None:
    assert parse_url("http://" + "a" * 63 + ".com/").host == "a" * 63 + ".com"


# -- ports -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "port"),
    [
        ("http://h:1/", 1),
        ("http://h:80/", 80),
        ("http://h:080/", 80),
        ("http://h:8080", 8080),
        ("http://h:65535/", 65535),
        ("http://h:/", 80),
        ("https://h:/", 443),
        ("http://h:8080?q", 8080),
        ("http://h:8080#f", 8080),
    ],
)
def test_ports(url: str, port: int) -> None:
    assert parse_url(url).port == port


@pytest.mark.parametrize(
    "port",
    [
        "0",
        "00000",
        "65536",
        "99999",
        "100000",
        "000080",
        "abc",
        "8o",
        "-1",
        "+80",
        " 80",
        "80 ",
        "1.5",
        "\uff18\uff10",
        "80:80",
    ],
)
def test_invalid_ports(port: str) -> None:
    with pytest.raises(InvalidURL):
        parse_url(f"http://h:{port}/")


# -- userinfo ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "username", "password"),
    [
        ("http://h/", None, None),
        ("http://user@h/", "user", None),
        ("http://user:pw@h/", "user", "pw"),
        ("http://user:@h/", "user", ""),
        ("http://:pw@h/", "", "pw"),
        ("http://@h/", None, None),
        ("http://us%20er:p%40ss%3Aw@h/", "us er", "p@ss:w"),
        ("http://us%C3%A9r:%E2%82%AC@h/", "us\u00e9r", "\u20ac"),
        ("http://a@b:c@d@h/", "a@b", "c@d"),
        ("http://user:pw@h:8080/", "user", "pw"),
    ],
)
def test_userinfo(url: str, username: str | None, password: str | None) -> None:
    parsed = parse_url(url)
    assert (parsed.username, parsed.password) == (username, password)
    assert parsed.host == "h"
    assert "@" not in str(parsed)


@pytest.mark.parametrize("url", ["http://u%FF@h/", "http://u:%C3@h/", "http://%80:pw@h/"])
def test_userinfo_invalid_utf8(url: str) -> None:
    with pytest.raises(InvalidURL, match="userinfo"):
        parse_url(url)


# -- request target encoding ---------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/", "/"),
        ("", "/"),
        ("/a b", "/a%20b"),
        ('/"quoted"', "/%22quoted%22"),
        ("/<tag>", "/%3Ctag%3E"),
        ("/a`b{c}d|e\\f^g", "/a%60b%7Bc%7Dd%7Ce%5Cf%5Eg"),
        ("/[x]", "/%5Bx%5D"),
        ("/caf\u00e9", "/caf%C3%A9"),
        ("/\u20ac", "/%E2%82%AC"),
        ("/\U0001f600", "/%F0%9F%98%80"),
        ("/\u00a0", "/%C2%A0"),
        # characters allowed in a path are kept
        ("/-._~!$&'()*+,;=:@/", "/-._~!$&'()*+,;=:@/"),
        ("/AZaz09", "/AZaz09"),
        # valid escapes are kept, bad ones are encoded
        ("/%41%2f%2F", "/%41%2f%2F"),
        ("/%zz", "/%25zz"),
        ("/%4", "/%254"),
        ("/%", "/%25"),
        ("/%%41", "/%25%41"),
        ("/%g1", "/%25g1"),
        ("/100%", "/100%25"),
        ("/a%20b c", "/a%20b%20c"),
    ],
)
def test_path_encoding(path: str, target: str) -> None:
    assert parse_url("http://h" + path).target == target


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("", "/?"),
        ("a=1&b=2", "/?a=1&b=2"),
        ("q=a b", "/?q=a%20b"),
        ("q=caf\u00e9", "/?q=caf%C3%A9"),
        ('q="x"', "/?q=%22x%22"),
        ("a=/path?x=y", "/?a=/path?x=y"),
        ("q=%7e%zz", "/?q=%7e%25zz"),
        ("q=<>", "/?q=%3C%3E"),
        ("x=a+b", "/?x=a+b"),
    ],
)
def test_query_encoding(query: str, target: str) -> None:
    assert parse_url("http://h/?" + query).target == target


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("http://h/p#frag", "/p"),
        ("http://h/p?q=1#frag", "/p?q=1"),
        ("http://h#frag", "/"),
        ("http://h:81#frag", "/"),
        ("http://h/p#frag?notquery", "/p"),
        ("http://h/p#", "/p"),
        ("http://h/p#a b\u00e9", "/p"),
    ],
)
def test_fragment_dropped(url: str, target: str) -> None:
    assert parse_url(url).target == target


@pytest.mark.parametrize("char", ["\r", "\n", "\x00", "\t", "\x1b", "\x7f", "\x0b", "\x0c"])
@pytest.mark.parametrize(
    "template",
    [
        "{}http://h/",
        "ht{}tp://h/",
        "http://{}h/",
        "http://h{}/",
        "http://h{}:80/",
        "http://h:8{}0/",
        "http://us{}er:pw@h/",
        "http://user:p{}w@h/",
        "http://[::{}1]/",
        "http://h/pa{}th",
        "http://h/path?q{}=1",
        "http://h/path#frag{}",
        "http://h/path{}",
    ],
)
def test_control_characters_anywhere_rejected(char: str, template: str) -> None:
    with pytest.raises(InvalidURL, match="control character"):
        parse_url(template.format(char))


def test_request_splitting_attempt_rejected() -> None:
    with pytest.raises(InvalidURL):
        parse_url("http://h/x HTTP/1.1\r\nHost: evil\r\n\r\nGET /y")


def test_parse_url_result_is_immutable() -> None:
    parsed = parse_url("http://h/")
    with pytest.raises(AttributeError):
        parsed.host = "other"  # type: ignore[misc]
    assert parsed.origin == ("http", "h", 80)
