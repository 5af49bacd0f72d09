"""Errors raised by the storage backends.

Each carries a stable machine ``code``::

    StorageError                STORAGE_ERROR
    ├── InvalidKeyError         INVALID_STORAGE_KEY   (a key that could escape the layout)
    ├── ObjectNotFoundError     STORAGE_NOT_FOUND
    ├── RangeNotSatisfiableError RANGE_NOT_SATISFIABLE
    └── StorageUnavailableError STORAGE_UNAVAILABLE   (transient: retries exhausted, backend down)
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error a storage backend raises on purpose."""

    code: str = "STORAGE_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class InvalidKeyError(StorageError, ValueError):
    code = "INVALID_STORAGE_KEY"


class ObjectNotFoundError(StorageError, LookupError):
    code = "STORAGE_NOT_FOUND"


class RangeNotSatisfiableError(StorageError):
    code = "RANGE_NOT_SATISFIABLE"


class StorageUnavailableError(StorageError):
    code = "STORAGE_UNAVAILABLE"
