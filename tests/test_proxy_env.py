"""Proxy selection: parse_proxy, env_proxy, env_no_proxy and bypass_proxy (NO_PROXY rules)."""

from __future__ import annotations

import base64
import ipaddress
from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from rawhttp import InvalidURL
from rawhttp._proxy import Proxy, bypass_proxy, env_no_proxy, env_proxy, parse_proxy


def basic(credentials: str) -> bytes:
    return b"Basic " + base64.b64encode(credentials.encode("utf-8"))


# -- parse_proxy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://proxy:3128", Proxy("proxy", 3128, None, "http://proxy:3128")),
        ("http://proxy:3128/", Proxy("proxy", 3128, None, "http://proxy:3128")),
        ("http://proxy", Proxy("proxy", 1080, None, "http://proxy:1080")),
        ("http://proxy:", Proxy("proxy", 1080, None, "http://proxy:1080")),
        ("http://proxy:80", Proxy("proxy", 80, None, "http://proxy:80")),
        ("proxy:3128", Proxy("proxy", 3128, None, "http://proxy:3128")),
        ("proxy", Proxy("proxy", 1080, None, "http://proxy:1080")),
        ("proxy/", Proxy("proxy", 1080, None, "http://proxy:1080")),
        (
            "HTTP://Proxy.Example.COM:8080",
            Proxy("proxy.example.com", 8080, None, "http://proxy.example.com:8080"),
        ),
        ("http://10.0.0.1:3128", Proxy("10.0.0.1", 3128, None, "http://10.0.0.1:3128")),
        ("http://[::1]:3128", Proxy("::1", 3128, None, "http://[::1]:3128")),
        ("[0:0::1]", Proxy("::1", 1080, None, "http://[::1]:1080")),
        (
            "http://bücher.example:1",
            Proxy("xn--bcher-kva.example", 1, None, "http://xn--bcher-kva.example:1"),
        ),
        ("http://p:65535", Proxy("p", 65535, None, "http://p:65535")),
    ],
)
def test_parse_proxy(value: str, expected: Proxy) -> None:
    assert parse_proxy(value) == expected


@pytest.mark.parametrize(
    ("value", "credentials"),
    [
        ("http://user:pass@h:3128", "user:pass"),
        ("user:pass@h:3128", "user:pass"),
        ("http://us%40er:p%3Ass@h:3128", "us@er:p:ss"),
        ("http://user@h", "user:"),
        ("http://user:@h", "user:"),
        ("http://:secret@h", ":secret"),
        ("http://u:p@ss@h", "u:p@ss"),  # the last '@' ends the userinfo
        ("http://u:p:q@h", "u:p:q"),  # the first ':' ends the user name
        ("http://J%C3%B6rg:%E2%82%AC@h", "Jörg:€"),
        ("http://Jörg:pw@h", "Jörg:pw"),
    ],
)
def test_parse_proxy_credentials(value: str, credentials: str) -> None:
    proxy = parse_proxy(value)
    assert proxy.authorization == basic(credentials)
    assert proxy.host == "h"
    assert "@" not in proxy.url
    assert proxy.url.startswith("http://h:")


def test_parse_proxy_user_pass_example() -> None:
    assert parse_proxy("http://user:pass@h").authorization == b"Basic dXNlcjpwYXNz"
    assert parse_proxy("http://@h").authorization is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("https://proxy:3128", "only http:// proxies are supported"),
        ("HTTPS://proxy", "only http:// proxies are supported"),
        ("socks4://proxy:1080", "only http:// proxies are supported"),
        ("socks5://proxy:1080", "only http:// proxies are supported"),
        ("socks5h://user:pw@proxy", "only http:// proxies are supported"),
        ("", "no host"),
        ("http://", "no host"),
        ("http://:3128", "no host"),
        ("http://user:pw@", "no host"),
        ("http://proxy:abc", "invalid port"),
        ("http://proxy:0", "invalid port"),
        ("http://proxy:65536", "invalid port"),
        ("http://proxy:99999", "invalid port"),
        ("http://proxy:-1", "invalid port"),
        ("http://proxy:+80", "invalid port"),
        ("http://proxy:3128:1", "brackets"),
        ("http://::1:3128", "brackets"),
        ("http://[::1", "unterminated"),
        ("http://[::1]x", "unexpected text"),
        ("http://[::1]:0", "invalid port"),
        ("http://[not-v6]:1", "invalid IPv6"),
        ("http://[fe80::1%25eth0]:1", "zone"),
        ("http://pro xy:3128", "control character or space"),
        (" http://proxy:3128", "control character or space"),
        ("http://proxy:3128 ", "control character or space"),
        ("http://proxy:3128\n", "control character or space"),
        ("http://pro\x00xy", "control character or space"),
        ("http://u:p\tw@proxy", "control character or space"),
        ("http://proxy\x7f", "control character or space"),
        ("http://proxy:3128/path", "path, query or fragment"),
        ("http://proxy//", "path, query or fragment"),
        ("http://proxy:3128?x=1", "path, query or fragment"),
        ("http://proxy:3128/?", "path, query or fragment"),
        ("http://proxy:3128#frag", "path, query or fragment"),
        ("http://pro!xy", "invalid host"),
        ("http://proxy..example", "invalid host"),
        ("http://us%3Aer:pw@proxy", "user name must not contain"),
    ],
)
def test_parse_proxy_invalid(value: str, message: str) -> None:
    with pytest.raises(InvalidURL, match=message):
        parse_proxy(value)


@pytest.mark.parametrize(
    "value",
    [
        "socks5://alice:s3cret@proxy",
        "http://alice:s3cret@proxy:99999",
        "http://alice:s3cret@proxy/path",
        "http://alice:s3cret@ proxy",
        "http://alice:s3cret@",
    ],
)
def test_parse_proxy_errors_hide_credentials(value: str) -> None:
    with pytest.raises(InvalidURL) as info:
        parse_proxy(value)
    assert "s3cret" not in str(info.value)
    assert "alice" not in str(info.value)


@settings(max_examples=200, deadline=None)
@given(
    user=st.text(st.characters(exclude_characters=":", codec="utf-8")),
    password=st.text(st.characters(codec="utf-8")),
)
def test_parse_proxy_credentials_roundtrip(user: str, password: str) -> None:
    assume(user or password)
    value = f"http://{quote(user, safe='')}:{quote(password, safe='')}@proxy:3128"
    proxy = parse_proxy(value)
    assert proxy.authorization is not None
    decoded = base64.b64decode(proxy.authorization.removeprefix(b"Basic "))
    assert decoded == f"{user}:{password}".encode()
    assert proxy.url == "http://proxy:3128"


# -- env_proxy / env_no_proxy -------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "environ", "expected"),
    [
        ("http", {}, None),
        ("https", {}, None),
        ("http", {"http_proxy": "a"}, "a"),
        ("http", {"HTTP_PROXY": "A"}, "A"),
        ("http", {"http_proxy": "a", "HTTP_PROXY": "A"}, "a"),
        ("http", {"http_proxy": "", "HTTP_PROXY": "A"}, "A"),
        ("http", {"http_proxy": "a", "all_proxy": "all"}, "a"),
        ("http", {"all_proxy": "all", "ALL_PROXY": "ALL"}, "all"),
        ("http", {"ALL_PROXY": "ALL"}, "ALL"),
        ("http", {"all_proxy": "", "ALL_PROXY": "ALL"}, "ALL"),
        ("http", {"HTTP_PROXY": "A", "all_proxy": "all"}, "A"),
        ("http", {"https_proxy": "s", "HTTPS_PROXY": "S"}, None),
        ("http", {"http_proxy": "", "HTTP_PROXY": "", "all_proxy": "", "ALL_PROXY": ""}, None),
        ("http", {"http_proxy": "  ", "all_proxy": "all"}, "all"),
        ("https", {"https_proxy": "s"}, "s"),
        ("https", {"HTTPS_PROXY": "S"}, "S"),
        ("https", {"https_proxy": "s", "HTTPS_PROXY": "S"}, "s"),
        ("https", {"https_proxy": "", "HTTPS_PROXY": "S"}, "S"),
        ("https", {"http_proxy": "a", "HTTP_PROXY": "A"}, None),
        ("https", {"http_proxy": "a", "all_proxy": "all"}, "all"),
        ("https", {"https_proxy": "", "ALL_PROXY": "ALL"}, "ALL"),
        ("https", {"HTTPS_PROXY": "S", "all_proxy": "all"}, "S"),
        ("http", {"http_proxy": " http://p:1 "}, " http://p:1 "),  # returned raw
    ],
)
def test_env_proxy(scheme: str, environ: dict[str, str], expected: str | None) -> None:
    assert env_proxy(scheme, environ) == expected


@pytest.mark.parametrize(
    ("scheme", "environ", "expected"),
    [
        ("http", {"REQUEST_METHOD": "GET", "HTTP_PROXY": "evil"}, None),
        ("http", {"REQUEST_METHOD": "", "HTTP_PROXY": "evil"}, None),
        ("http", {"REQUEST_METHOD": "GET", "HTTP_PROXY": "evil", "all_proxy": "all"}, "all"),
        ("http", {"REQUEST_METHOD": "GET", "HTTP_PROXY": "evil", "ALL_PROXY": "ALL"}, "ALL"),
        ("http", {"REQUEST_METHOD": "GET", "http_proxy": "a", "HTTP_PROXY": "evil"}, "a"),
        ("https", {"REQUEST_METHOD": "GET", "HTTPS_PROXY": "S"}, "S"),
        ("https", {"REQUEST_METHOD": "GET", "HTTP_PROXY": "evil"}, None),
        ("http", {"HTTP_PROXY": "A"}, "A"),
    ],
)
def test_env_proxy_httpoxy(scheme: str, environ: dict[str, str], expected: str | None) -> None:
    assert env_proxy(scheme, environ) == expected


def test_env_proxy_rejects_other_schemes() -> None:
    with pytest.raises(ValueError, match="scheme"):
        env_proxy("ftp", {"ftp_proxy": "x", "all_proxy": "y"})


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"no_proxy": "a"}, "a"),
        ({"NO_PROXY": "A"}, "A"),
        ({"no_proxy": "a", "NO_PROXY": "A"}, "a"),
        ({"no_proxy": "", "NO_PROXY": "A"}, "A"),
        ({"no_proxy": "", "NO_PROXY": ""}, None),
        ({"no_proxy": "*"}, "*"),
        ({"REQUEST_METHOD": "GET", "NO_PROXY": "A"}, "A"),
    ],
)
def test_env_no_proxy(environ: dict[str, str], expected: str | None) -> None:
    assert env_no_proxy(environ) == expected


# -- bypass_proxy ---------------------------------------------------------------------------

BYPASS = [
    # names: the host itself and its subdomains, never a mere suffix
    ("example.com", 80, "example.com", True),
    ("www.example.com", 80, "example.com", True),
    ("a.b.example.com", 443, "example.com", True),
    ("badexample.com", 80, "example.com", False),
    ("example.com.org", 80, "example.com", False),
    ("example.co", 80, "example.com", False),
    ("com", 80, "example.com", False),
    ("example.com", 80, ".example.com", True),
    ("www.example.com", 80, ".example.com", True),
    ("badexample.com", 80, ".example.com", False),
    ("example.com", 80, "example.com.", True),
    ("example.com.", 80, "example.com", True),
    ("www.example.com.", 80, ".example.com.", True),
    ("example.com", 80, "EXAMPLE.COM", True),
    ("example.com", 80, "*.example.com", False),  # no wildcards but "*" alone
    ("example.com", 80, ".", False),
    ("xn--bcher-kva.example", 80, "bücher.example", True),
    ("localhost", 80, "", False),
    ("localhost", 80, "example.com", False),  # localhost is not implicit
    ("localhost", 80, "localhost", True),
    ("localhost.", 80, "localhost", True),
    # lists: commas and/or whitespace, empty entries ignored
    ("b.example", 80, "a.example,b.example", True),
    ("b.example", 80, "a.example b.example", True),
    ("b.example", 80, "a.example , \t b.example", True),
    ("b.example", 80, ",,a.example,,\nb.example,", True),
    ("c.example", 80, "a.example, b.example", False),
    ("example.com", 80, "", False),
    ("example.com", 80, " , ", False),
    # "*" alone matches everything
    ("example.com", 80, "*", True),
    ("10.1.2.3", 80, "*", True),
    ("::1", 80, "*", True),
    ("example.com", 80, "a.example, *", True),
    ("example.com", 80, " * ", True),
    ("example.com", 80, "*example.com", False),
    ("example.com", 80, "**", False),
    # ports
    ("example.com", 8080, "example.com:8080", True),
    ("example.com", 80, "example.com:8080", False),
    ("www.example.com", 8080, ".example.com:8080", True),
    ("example.com", 80, "example.com:", False),
    ("example.com", 80, "example.com:http", False),
    ("example.com", 0, "example.com:0", False),
    ("1.2.3.4", 8080, "1.2.3.4:8080", True),
    ("1.2.3.4", 8081, "1.2.3.4:8080", False),
    ("::1", 8080, "[::1]:8080", True),
    ("::1", 80, "[::1]:8080", False),
    ("::1", 80, "[::1]", True),
    ("::1", 80, "::1", True),
    ("example.com", 80, "example.com:80, other:1", True),
    # IPv4
    ("10.1.2.3", 80, "10.1.2.3", True),
    ("10.1.2.3", 80, "10.1.2.4", False),
    ("10.1.2.3", 80, "1.2.3", False),  # no suffix matching of addresses
    ("10.1.2.3", 80, "2.3", False),
    ("10.1.2.3", 80, ".1.2.3", False),
    ("127.0.0.1", 80, "localhost", False),
    ("localhost", 80, "127.0.0.1", False),
    # IPv6, normalised
    ("::1", 80, "0:0::1", True),
    ("::1", 80, "0000:0000:0000:0000:0000:0000:0000:0001", True),
    ("2001:db8::1", 80, "2001:DB8::1", True),
    ("2001:db8::1", 80, "2001:db8::2", False),
    ("::1", 80, "[::2]", False),
    ("::ffff:1.2.3.4", 80, "1.2.3.4", False),
    # CIDR
    ("10.1.2.3", 80, "10.0.0.0/8", True),
    ("11.1.2.3", 80, "10.0.0.0/8", False),
    ("192.168.5.5", 80, "192.168.0.0/16", True),
    ("192.169.0.1", 80, "192.168.0.0/16", False),
    ("10.1.2.3", 80, "10.1.2.3/32", True),
    ("10.1.2.4", 80, "10.1.2.3/32", False),
    ("10.1.2.3", 80, "10.1.2.3/8", True),  # host bits are ignored
    ("1.2.3.4", 80, "0.0.0.0/0", True),
    ("::1", 80, "0.0.0.0/0", False),
    ("1.2.3.4", 80, "::/0", False),
    ("::1", 80, "::1/128", True),
    ("::2", 80, "::1/128", False),
    ("::2", 80, "[::1]/127", False),
    ("2001:db8:1::5", 80, "2001:db8::/32", True),
    ("2001:db9::5", 80, "2001:db8::/32", False),
    ("2001:db8::5", 80, "[2001:db8::]/32", True),
    ("10.example", 80, "10.0.0.0/8", False),  # networks never match names
    ("example.com", 80, "example.com/8", False),
    ("10.1.2.3", 80, "10.0.0.0/33", False),
    ("10.1.2.3", 8080, "10.0.0.0/8:8080", True),
    ("10.1.2.3", 80, "10.0.0.0/8:8080", False),
    # host given with brackets or upper case by mistake
    ("[::1]", 80, "::1", True),
    ("EXAMPLE.com", 80, "example.com", True),
    ("0:0::1", 80, "::1", True),
]


@pytest.mark.parametrize(("host", "port", "no_proxy", "expected"), BYPASS)
def test_bypass_proxy(host: str, port: int, no_proxy: str, expected: bool) -> None:
    assert bypass_proxy(host, port, no_proxy) is expected


# -- properties ---------------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
HOSTNAME = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
PORT = st.integers(1, 65535)


def is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(host=HOSTNAME, sub=LABEL, port=PORT, prefix=LABEL)
def test_name_matches_itself_and_subdomains_only(
    host: str, sub: str, port: int, prefix: str
) -> None:
    assume(not is_ip(host) and not is_ip(f"{sub}.{host}") and not is_ip(prefix + host))
    for entry in (host, "." + host, host + ".", host.upper()):
        assert bypass_proxy(host, port, entry)
        assert bypass_proxy(f"{sub}.{host}", port, entry)
        assert not bypass_proxy(prefix + host, port, entry)
        assert bypass_proxy(host, port, f"{entry}:{port}")
        assert not bypass_proxy(host, port % 65535 + 1, f"{entry}:{port}")
    assert not bypass_proxy(host, port, f"{sub}.{host}")


@settings(max_examples=300, deadline=None)
@given(
    address=st.ip_addresses(),
    network=st.one_of(st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str)),
    prefix=st.integers(0, 128),
    port=PORT,
)
def test_cidr_matches_like_ipaddress(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, network: str, prefix: int, port: int
) -> None:
    net = ipaddress.ip_network(
        f"{network}/{min(prefix, 32 if '.' in network else 128)}", strict=False
    )
    assert bypass_proxy(str(address), port, str(net)) is (address in net)
    assert bypass_proxy(str(address), port, f"other.example, {address.exploded}")
