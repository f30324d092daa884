"""Errors raised while reading or writing model files.

Each is also the built-in class Keras raises in the same place (``ValueError``,
``TypeError``), so ``except ValueError`` keeps working; ``SavingError`` catches
them all.
"""

from __future__ import annotations

import contextlib


class SavingError(Exception):
    """Base class of tinyann's file errors; ``filepath`` names the file (or None)."""

    def __init__(self, message: str, filepath=None):
        super().__init__(message)
        self.filepath = None if filepath is None else str(filepath)


class InvalidFileError(SavingError, ValueError):
    """The file is missing, truncated, corrupt, of another format, too large, or does
    not fit the model (wrong number or shape of weights)."""


class UnknownObjectError(SavingError, TypeError):
    """The file names a class or function that is neither built in nor registered
    (Keras raises ``TypeError`` here too)."""


def file_error(filepath, problem: str) -> InvalidFileError:
    """``InvalidFileError("Cannot load 'path': problem")``."""
    return InvalidFileError(f"Cannot load {str(filepath)!r}: {problem}", filepath)


class UnsafeObjectError(SavingError, ValueError):
    """The file holds code (a Lambda layer, a lambda function): never run."""


def with_file(error: SavingError, filepath) -> SavingError:
    """``error`` again, its message naming ``filepath`` if it did not already."""
    if error.filepath is not None:
        return error
    new = type(error)(f"Cannot load {str(filepath)!r}: {error}", filepath)
    new.__cause__ = error.__cause__
    return new


@contextlib.contextmanager
def reading(filepath, what="the HDF5 data is damaged"):
    """Any failure while parsing the file's bytes becomes an error naming the file."""
    try:
        yield
    except SavingError as e:
        raise with_file(e, filepath) from e.__cause__
    except MemoryError:
        raise
    except Exception as e:  # h5py raises many types for damaged data
        raise file_error(filepath, f"{what}: {type(e).__name__}: {e}") from e
