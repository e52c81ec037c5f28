"""``multipart/form-data`` request bodies (RFC 7578) for ``files=``.

(Skeleton: being built.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from ._exceptions import InvalidRequest

__all__ = ["FilesInput", "encode_multipart"]

FilesInput: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, Any]]"


def encode_multipart(files: FilesInput, data: Any) -> Any:
    raise InvalidRequest("files= is not supported yet")
