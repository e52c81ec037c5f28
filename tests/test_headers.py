"""Headers: a case-insensitive, order-keeping multimap."""

from __future__ import annotations

import pytest

from rawhttp import Headers

FIELDS = [
    ("Content-Type", "text/html"),
    ("Set-Cookie", "a=1"),
    ("X-Empty", ""),
    ("set-cookie", "b=2"),
    ("SET-COOKIE", "c=3"),
]


@pytest.fixture
def headers() -> Headers:
    return Headers(FIELDS)


@pytest.mark.parametrize("name", ["content-type", "Content-Type", "CONTENT-TYPE", "cOnTeNt-TyPe"])
def test_case_insensitive_lookup(headers: Headers, name: str) -> None:
    assert headers[name] == "text/html"
    assert headers.get(name) == "text/html"
    assert headers.get_all(name) == ["text/html"]
    assert name in headers


@pytest.mark.parametrize("name", ["set-cookie", "Set-Cookie", "SET-COOKIE"])
def test_repeated_fields(headers: Headers, name: str) -> None:
    assert headers.get_all(name) == ["a=1", "b=2", "c=3"]
    assert headers[name] == "a=1, b=2, c=3"
    assert headers.get(name) == "a=1, b=2, c=3"


def test_empty_value_is_present(headers: Headers) -> None:
    assert headers["x-empty"] == ""
    assert headers.get("x-empty", "default") == ""
    assert "X-EMPTY" in headers


def test_missing(headers: Headers) -> None:
    with pytest.raises(KeyError):
        headers["missing"]
    assert headers.get("missing") is None
    assert headers.get("missing", "fallback") == "fallback"
    assert headers.get("missing", None) is None
    assert headers.get_all("missing") == []
    assert "missing" not in headers


@pytest.mark.parametrize("key", [None, 1, b"content-type", ("Content-Type",)])
def test_contains_non_str_is_false(headers: Headers, key: object) -> None:
    assert key not in headers


def test_items_keep_order_and_case(headers: Headers) -> None:
    assert headers.items() == FIELDS


def test_items_is_a_copy(headers: Headers) -> None:
    headers.items().append(("X", "y"))
    assert len(headers) == len(FIELDS)
    headers.get_all("set-cookie").append("d=4")
    assert headers.get_all("set-cookie") == ["a=1", "b=2", "c=3"]


def test_keys_and_iteration(headers: Headers) -> None:
    assert headers.keys() == ["Content-Type", "Set-Cookie", "X-Empty"]
    assert list(headers) == ["Content-Type", "Set-Cookie", "X-Empty"]


def test_len_counts_repeats(headers: Headers) -> None:
    assert len(headers) == 5
    assert len(Headers()) == 0


def test_bool() -> None:
    assert not Headers()
    assert not Headers([])
    assert Headers([("X", "")])


@pytest.mark.parametrize(
    "source",
    [
        {"Content-Type": "text/html", "X-A": "1"},
        [("Content-Type", "text/html"), ("X-A", "1")],
        [(b"Content-Type", b"text/html"), (b"X-A", b"1")],
        Headers([("Content-Type", "text/html"), ("X-A", "1")]),
        iter([("Content-Type", "text/html"), ("X-A", "1")]),
    ],
)
def test_construction_forms(source: object) -> None:
    h = Headers(source)  # type: ignore[arg-type]
    assert h.items() == [("Content-Type", "text/html"), ("X-A", "1")]


def test_copy_constructor_is_independent() -> None:
    original = Headers([("A", "1")])
    copy = Headers(original)
    assert copy == original
    assert copy is not original
    assert copy.items() == original.items()


@pytest.mark.parametrize("bad", [[("X", 1)], [(1, "x")], [("X", None)], {"X": 1.5}])
def test_construction_rejects_non_str_bytes(bad: object) -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        Headers(bad)  # type: ignore[arg-type]


def test_latin1_round_trip() -> None:
    raw = bytes(range(0x80, 0x100)) + b" \t!~"
    h = Headers([(b"X-Raw", raw)])
    assert h["x-raw"] == raw.decode("latin-1")
    assert h["x-raw"].encode("latin-1") == raw
    assert h.items() == [("X-Raw", raw.decode("latin-1"))]


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ([("A", "1")], [("a", "1")], True),
        ([("A", "1"), ("B", "2")], [("a", "1"), ("b", "2")], True),
        ([("A", "1"), ("B", "2")], [("B", "2"), ("A", "1")], False),  # order matters
        ([("A", "1")], [("A", "1 ")], False),
        ([("A", "x")], [("A", "X")], False),  # values are case-sensitive
        ([("A", "1")], [("A", "1"), ("A", "1")], False),
        ([], [], True),
    ],
)
def test_equality(left: list[tuple[str, str]], right: list[tuple[str, str]], equal: bool) -> None:
    assert (Headers(left) == Headers(right)) is equal
    assert (Headers(left) != Headers(right)) is not equal
    assert (Headers(left) == right) is equal


def test_equality_with_mapping() -> None:
    assert Headers([("Content-Type", "a"), ("X", "b")]) == {"content-type": "a", "x": "b"}
    assert Headers([("Content-Type", "a")]) != {"content-type": "b"}


@pytest.mark.parametrize("other", [None, 5, "A: 1", ("A", "1"), [1, 2]])
def test_equality_with_unrelated_types(other: object) -> None:
    assert Headers([("A", "1")]) != other


def test_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Headers())


def test_repr() -> None:
    assert repr(Headers([("A", "1"), ("b", "\xe9")])) == "Headers([('A', '1'), ('b', '\xe9')])"
    assert repr(Headers()) == "Headers([])"


def test_from_list_wraps_parser_output() -> None:
    fields = [("Server", "x"), ("server", "y")]
    h = Headers._from_list(fields)
    assert h.get_all("SERVER") == ["x", "y"]
    assert h["server"] == "x, y"
    assert h.items() == fields
