"""The command's entry point: which search command lines it sends to the engine itself."""

from __future__ import annotations

import pytest

from roocode_tui.entry import parse

BASE = {"collection": None, "limit": 10, "path": None, "lang": None, "mode": None, "json": False}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["retry policy"], {"query": "retry policy"}),
        (["q", "-c", "docs", "--json"], {"query": "q", "collection": "docs", "json": True}),
        (["--collection=docs", "q"], {"query": "q", "collection": "docs"}),
        (
            ["q", "-n", "3", "--path", "src/", "--lang=python"],
            {"query": "q", "limit": 3, "path": "src/", "lang": "python"},
        ),
        (["--mode", "keyword", "--", "-v flag"], {"query": "-v flag", "mode": "keyword"}),
    ],
)
def test_plain_searches_are_understood(args, expected):
    assert parse(args) == {**BASE, **expected}


@pytest.mark.parametrize(
    "args",
    [
        [],  # no query: the full command line says so
        ["a", "b"],  # two queries
        ["q", "--batch", "file"],
        ["q", "--config", "x.toml"],
        ["q", "--debug"],
        ["q", "--no-engine"],
        ["q", "-h"],
        ["q", "--mode", "fuzzy"],
        ["q", "--limit", "many"],
        ["q", "--limit", "0"],
        ["q", "-c"],
        ["q", "--coll", "docs"],  # argparse's abbreviations are its own
    ],
)
def test_everything_else_goes_to_the_full_command_line(args):
    assert parse(args) is None
