"""Where an index run's paths come from when a face names something else: an installed
package (``index --package``, F4's library field)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from roocode_tui.core.errors import UsageError


async def resolve_package(
    engine: Any, name: str, ecosystem: str, *, python: str | None, node_modules: str | None, cwd: str
) -> dict[str, Any]:
    """The installed package's paths to index and its collection (core/files/packages.py), as
    ``{"ecosystem", "name", "version", "paths", "where", "collection"}``. Its long description
    is written into the store's data dir, so a read-only engine refuses. ``python`` and
    ``node_modules`` are the face's: a relative one is taken from ``cwd``, and named as given
    in the answer and in errors."""
    from roocode_tui.core.files import packages

    engine.refuse_if_read_only("index")
    given: dict[str, str] = {}  # a path made absolute -> as the face gave it

    def absolute(shown: str) -> str:
        given[str(Path(cwd, shown))] = shown
        return str(Path(cwd, shown))

    if python and os.sep in python and not os.path.isabs(python):  # a bare name is looked up on PATH
        python = absolute(python)
    if node_modules:
        node_modules = absolute(str(Path(node_modules).expanduser()))
    try:
        pkg = await asyncio.to_thread(
            packages.resolve,
            name,
            ecosystem,
            python=python,
            node_modules=node_modules,
            cwd=cwd,
            data_dir=engine.settings.store.data_dir,
        )
    except UsageError as exc:
        raise UsageError(as_given(str(exc), given)) from None
    return {
        "ecosystem": pkg.ecosystem,
        "name": pkg.name,
        "version": pkg.version,
        "paths": [str(p) for p in pkg.paths],
        "where": as_given(pkg.where, given),
        "collection": pkg.collection,
    }


def as_given(text: str, given: dict[str, str]) -> str:
    for absolute, shown in given.items():
        text = text.replace(absolute, shown)
    return text
