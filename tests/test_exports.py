"""The public surface: exported names, docstrings, the exception tree, typing marker."""

from __future__ import annotations

import builtins
import inspect
import pathlib

import pytest

import rawhttp


@pytest.mark.parametrize("name", rawhttp.__all__)
def test_exported_name_exists(name: str) -> None:
    assert hasattr(rawhttp, name), name


@pytest.mark.parametrize("name", [n for n in rawhttp.__all__ if n != "__version__"])
def test_exported_name_has_docstring(name: str) -> None:
    obj = getattr(rawhttp, name)
    doc = inspect.getdoc(obj)
    assert doc, f"rawhttp.{name} has no docstring"
    # A class must have its own docstring, not one inherited from a base class.
    if isinstance(obj, type):
        assert obj.__doc__, f"rawhttp.{name} only inherits its docstring"


def test_all_has_no_duplicates() -> None:
    assert len(set(rawhttp.__all__)) == len(rawhttp.__all__)


def test_version_is_a_nonempty_string() -> None:
    assert isinstance(rawhttp.__version__, str)
    assert rawhttp.__version__.strip()


def test_every_public_class_is_exported() -> None:
    # Nothing public defined in rawhttp's top level namespace is missing from __all__.
    public = {
        name
        for name, obj in vars(rawhttp).items()
        if not name.startswith("_") and isinstance(obj, type)
    }
    assert public <= set(rawhttp.__all__)


EXCEPTIONS = [
    name
    for name in rawhttp.__all__
    if isinstance(getattr(rawhttp, name), type)
    and issubclass(getattr(rawhttp, name), Exception)
    and not issubclass(getattr(rawhttp, name), Warning)  # warnings: see the next test
]


def test_warnings_are_user_warnings() -> None:
    assert issubclass(rawhttp.TruncatedRecording, UserWarning)


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_every_exception_derives_from_error(name: str) -> None:
    assert issubclass(getattr(rawhttp, name), rawhttp.Error)


def test_error_is_an_exception() -> None:
    assert issubclass(rawhttp.Error, Exception)
    assert not issubclass(rawhttp.Error, ValueError)


@pytest.mark.parametrize("name", ["InvalidURL", "InvalidRequest"])
def test_value_errors(name: str) -> None:
    cls = getattr(rawhttp, name)
    assert issubclass(cls, ValueError)
    assert issubclass(cls, rawhttp.Error)
    assert not issubclass(cls, rawhttp.TransportError)


def test_timeout_error_is_builtin_timeout_error() -> None:
    assert issubclass(rawhttp.TimeoutError, builtins.TimeoutError)
    assert issubclass(rawhttp.TimeoutError, rawhttp.TransportError)
    assert rawhttp.TimeoutError is not builtins.TimeoutError
    # Catchable as the builtin, too.
    with pytest.raises(builtins.TimeoutError):
        raise rawhttp.ReadTimeout("x")


def test_tls_error_is_connect_error() -> None:
    assert issubclass(rawhttp.TLSError, rawhttp.ConnectError)
    assert issubclass(rawhttp.TLSError, rawhttp.TransportError)


@pytest.mark.parametrize("name", ["ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout"])
def test_timeouts(name: str) -> None:
    cls = getattr(rawhttp, name)
    assert issubclass(cls, rawhttp.TimeoutError)
    assert issubclass(cls, builtins.TimeoutError)
    assert issubclass(cls, rawhttp.TransportError)


@pytest.mark.parametrize("name", ["ConnectError", "ReadError", "WriteError", "ProtocolError"])
def test_transport_errors(name: str) -> None:
    cls = getattr(rawhttp, name)
    assert issubclass(cls, rawhttp.TransportError)
    assert not issubclass(cls, rawhttp.TimeoutError)
    assert not issubclass(cls, builtins.TimeoutError)


def test_non_transport_errors() -> None:
    for cls in (
        rawhttp.HTTPStatusError,
        rawhttp.TooManyRedirects,
        rawhttp.DecodingError,
        rawhttp.ResponseNotRead,
        rawhttp.BodyTooLarge,
    ):
        assert issubclass(cls, rawhttp.Error)
        assert not issubclass(cls, rawhttp.TransportError)


def test_connect_timeout_is_not_connect_error() -> None:
    # A timeout is reported as a timeout: except ConnectError must not swallow it by accident.
    assert not issubclass(rawhttp.ConnectTimeout, rawhttp.ConnectError)


def test_http_status_error_carries_response() -> None:
    response = rawhttp.Response(
        status=404,
        reason="Not Found",
        http_version="HTTP/1.1",
        headers=rawhttp.Headers(),
        url="http://127.0.0.1/",
        method="GET",
        content=b"",
    )
    err = rawhttp.HTTPStatusError("boom", response=response)
    assert err.response is response
    assert str(err) == "boom"


def test_timeout_single_value_sets_all_but_total() -> None:
    t = rawhttp.Timeout(5.0)
    assert t.connect == 5.0
    assert t.read == 5.0
    assert t.write == 5.0
    assert t.pool == 5.0
    assert t.total is None


def test_timeout_overrides_and_none() -> None:
    t = rawhttp.Timeout(5.0, read=1, total=30)
    assert (t.connect, t.read, t.write, t.pool, t.total) == (5.0, 1.0, 5.0, 5.0, 30.0)
    assert isinstance(t.read, float)
    t = rawhttp.Timeout(5.0, pool=None)
    assert t.pool is None
    t = rawhttp.Timeout()
    assert (t.connect, t.read, t.write, t.pool, t.total) == (None, None, None, None, None)


def test_timeout_is_immutable_and_hashable() -> None:
    t = rawhttp.Timeout(5.0)
    with pytest.raises(AttributeError):
        t.read = 1.0
    assert t == rawhttp.Timeout(5.0)
    assert hash(t) == hash(rawhttp.Timeout(5.0))
    assert t != rawhttp.Timeout(4.0)
    assert "read=5.0" in repr(t)


@pytest.mark.parametrize("bad", [0, -1, 0.0])
def test_timeout_rejects_non_positive(bad: float) -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        rawhttp.Timeout(bad)


@pytest.mark.parametrize("bad", [True, "5", [5]])
def test_timeout_rejects_non_numbers(bad: object) -> None:
    with pytest.raises(TypeError):
        rawhttp.Timeout(read=bad)  # type: ignore[arg-type]


def test_limits_defaults_and_validation() -> None:
    limits = rawhttp.Limits()
    assert limits.max_informational == 10
    assert rawhttp.Limits(max_headers=5).max_headers == 5
    with pytest.raises(ValueError, match="max_headers"):
        rawhttp.Limits(max_headers=-1)
    assert limits.max_body_size == 256 * 1024 * 1024
    assert rawhttp.Limits(max_body_size=None).max_body_size is None
    assert limits._replace(max_body_size=10).max_body_size == 10


def test_body_too_large_carries_the_limit_and_the_size() -> None:
    err = rawhttp.BodyTooLarge("too large", limit=100, size=101)
    assert (err.limit, err.size, str(err)) == (100, 101, "too large")
    assert "BodyTooLarge" in rawhttp.__all__


def test_py_typed_exists() -> None:
    package = pathlib.Path(rawhttp.__file__).parent
    assert (package / "py.typed").is_file()


def test_the_blocking_api_is_imported_on_first_use() -> None:
    """``import rawhttp`` (the command, async programs) does not import the blocking
    API; its names resolve on first use, are listed by dir() and are the real ones."""
    import subprocess
    import sys

    code = (
        "import sys, rawhttp\n"
        "assert 'rawhttp._sync' not in sys.modules\n"
        "assert {'get', 'SyncSession', 'EventLoopRunning'} <= set(dir(rawhttp))\n"
        "from rawhttp import SyncSession\n"
        "import rawhttp._sync as s\n"
        "assert SyncSession is s.SyncSession and rawhttp.get is s.get\n"
        "assert issubclass(rawhttp.EventLoopRunning, rawhttp.Error)\n"
        "try:\n"
        "    rawhttp.no_such_name\n"
        "except AttributeError as e:\n"
        "    assert 'no_such_name' in str(e)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"
