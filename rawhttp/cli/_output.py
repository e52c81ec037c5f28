"""Where one transfer's bytes go: stdout, or the file of ``-o FILE`` / ``-O`` (named by
``-J`` from Content-Disposition), under ``--output-dir``, its directories made by
``--create-dirs``, appended to for ``-C``, its time set by ``-R``; and ``-D`` heads.

Files are opened once the response to write is in (an empty body still makes an empty
file, as curl's), and what was written stays when the transfer fails part-way."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO, TYPE_CHECKING

import rawhttp

from ._exit import EXIT_WRITE, CliError

if TYPE_CHECKING:
    from ._args import Operation

__all__ = ["Output", "remote_name", "safe_header_name"]


class Output:
    """The body's destination for one transfer (opened on first use)."""

    def __init__(self, args: Operation, out: IO[bytes] | None) -> None:
        self.args = args
        self.out = out
        self.to_file = (args.output is not None and args.output != "-") or args.remote_name
        self.file: IO[bytes] | None = None
        self.name: str | None = None
        """The file written (``%{filename_effective}``)."""

    def planned_name(self) -> str | None:
        """The file name known before any response (for ``-C -``): None for stdout or
        a name -J will take from the response."""
        if not self.to_file or (self.args.remote_header_name and self.args.output is None):
            return None
        return self._in_dir(self.args.output or remote_name(self.args.url))

    def _in_dir(self, name: str) -> str:
        """``name`` under --output-dir (prepended as given, as curl does)."""
        directory = self.args.output_dir
        return name if not directory else f"{directory.rstrip('/')}/{name}"

    def target(self, response: rawhttp.Response | None) -> IO[bytes]:
        """The stream to write to, the file opened (and its directories made) now."""
        if not self.to_file:
            if self.out is None:
                raise CliError(EXIT_WRITE, "Failure writing output: stdout is closed")
            return self.out
        if self.file is not None:
            return self.file
        name = self.args.output
        if name is None:
            given = None
            if self.args.remote_header_name and response is not None:
                given = safe_header_name(response.headers.get("content-disposition"))
            name = given or remote_name(self.args.url)
        path = self._in_dir(name)
        if self.args.create_dirs:
            parent = os.path.dirname(path)
            if parent:
                try:
                    os.makedirs(parent, exist_ok=True)
                except OSError as exc:
                    raise CliError(EXIT_WRITE, f"Failed to create the directory: {exc}") from exc
        mode = "ab" if self.args.continue_at is not None else "wb"
        try:
            self.file = open(path, mode)  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise CliError(EXIT_WRITE, f"Failed to open the output file: {exc}") from exc
        self.name = path
        return self.file

    def write(self, data: bytes, response: rawhttp.Response | None) -> None:
        target = self.target(response)
        try:
            target.write(data)
        except OSError as exc:
            raise CliError(EXIT_WRITE, f"Failure writing output: {exc}") from exc

    def flush(self) -> None:
        stream = self.file if self.to_file else self.out
        if stream is None:
            return
        try:
            stream.flush()
        except OSError as exc:
            raise CliError(EXIT_WRITE, f"Failure writing output: {exc}") from exc

    def close(self, response: rawhttp.Response | None, *, failed: bool) -> None:
        """Close the file (what arrived stays); -R gives it the Last-Modified time."""
        file, self.file = self.file, None
        if file is None:
            return
        if failed:  # the error to report is the first one
            with contextlib.suppress(OSError):
                file.close()
            return
        try:
            file.close()
        except OSError as exc:
            raise CliError(EXIT_WRITE, f"Failure writing output: {exc}") from exc
        if self.args.remote_time and response is not None and self.name is not None:
            _set_time(self.name, response.headers.get("last-modified"))


def _set_time(path: str, value: str | None) -> None:
    """-R: the file's times from a Last-Modified date (an unreadable one is ignored)."""
    if not value:
        return
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return
    with contextlib.suppress(OSError, OverflowError):
        os.utime(path, (when, when))


def safe_header_name(disposition: str | None) -> str | None:
    """-J: the file name a Content-Disposition gives, without any directory part
    (``../../x`` is ``x``, as curl takes it), or None when it gives none usable."""
    if not disposition:
        return None
    import email.message

    message = email.message.Message()
    message["content-disposition"] = disposition
    name = message.get_filename()
    if not name:
        return None
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    if name in ("", ".", "..") or "\x00" in name:
        return None
    return name


def remote_name(url: str) -> str:
    """-O: the last segment of the URL's path; exit 23 when it is empty."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    after_scheme = path.split("://", 1)[-1]
    name = after_scheme.split("/", 1)[1].rsplit("/", 1)[-1] if "/" in after_scheme else ""
    if not name:
        raise CliError(EXIT_WRITE, "Remote file name has no length")
    return name


def dump_heads(args: Operation, heads: list[bytes], out: IO[bytes] | None) -> None:
    """-D FILE: the response heads of the transfer (- is stdout, % stderr)."""
    name = args.dump_header
    if name is None or not heads:
        return
    data = b"".join(heads)
    try:
        if name == "-":
            if out is None:
                raise OSError("stdout is closed")
            out.write(data)
        elif name == "%":
            sys.stderr.buffer.write(data)
        else:
            with open(name, "wb") as f:
                f.write(data)
    except OSError as exc:
        raise CliError(EXIT_WRITE, f"Failed writing the header file: {exc}") from exc
