"""Errors the user can act on. Each renders as one line: no traceback reaches the user."""

from __future__ import annotations


class RoocodeError(Exception):
    """Base of every error the CLI and the TUI show as one line."""

    exit_code = 1


class ConfigError(RoocodeError):
    """The config file, an env override or a command-line value is wrong."""

    exit_code = 2


class UsageError(RoocodeError):
    """A command was asked for something that cannot be done as asked."""

    exit_code = 2


class ReadRefusedError(UsageError):
    """A file asked for is not one an index run reads (core/reading.py)."""


class StoreError(RoocodeError):
    """The vector store failed or refused an operation."""


class StoreBusyError(StoreError):
    """Another process holds the embedded collection open."""


class CollectionNotFoundError(StoreError):
    exit_code = 2


class ModelMismatchError(StoreError):
    """The collection was built with another embedding model or dimension."""

    exit_code = 2


class EmbedderError(RoocodeError):
    """The embedding model or server failed."""


class EmbedderFatalError(EmbedderError):
    """The server answered something that must not be stored (wrong dimension): stop the run."""


class EngineError(RoocodeError):
    """The engine could not be reached, started, or trusted (another version or config)."""


class EngineGoneError(EngineError):
    """The engine stopped while a face was waiting on it."""


def error_from(kind: str, message: str) -> RoocodeError:
    """The error a face raises for one the engine reported (same class, same one line)."""
    cls = {c.__name__: c for c in _all(RoocodeError)}.get(kind, RoocodeError)
    return cls(message)


def _all(cls: type) -> list[type]:
    out = [cls]
    for sub in cls.__subclasses__():
        out += _all(sub)
    return out
