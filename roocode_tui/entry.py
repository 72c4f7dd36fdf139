"""The ``roocode-tui`` command. A plain ``search`` that a running engine can answer is sent
before anything else is imported (no argparse tree, no settings, no event loop: see
engine/quick.py), so a script or an agent asking many questions pays for Python's start-up and
the search itself. Everything else, and any search this does not understand, is cli.main's.
"""

from __future__ import annotations

import sys
from typing import Any

# The search options understood here; anything else (--batch, --config, --debug, -h ...) and
# every error is left to the full command line, which says what is wrong in its usual words.
_VALUED = {
    "--collection": "collection",
    "-c": "collection",
    "--limit": "limit",
    "-n": "limit",
    "--path": "path",
    "--lang": "lang",
    "--mode": "mode",
}
_MODES = (None, "dense", "hybrid", "keyword")


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["search"]:
        code = search(argv[1:])
        if code is not None:
            sys.exit(code)
    from roocode_tui.cli import main as full

    full(argv)


def parse(args: list[str]) -> dict[str, Any] | None:
    """The search this understands: {"query", "collection", "limit", "path", "lang", "mode",
    "json"}; None for anything else."""
    opts: dict[str, Any] = {"query": None, "collection": None, "limit": "10", "path": None, "lang": None}
    opts.update(mode=None, json=False)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--json":
            opts["json"] = True
        elif arg == "--":
            if opts["query"] is not None or len(args) != i + 2:
                return None
            opts["query"] = args[i + 1]
            i += 1
        elif arg.startswith("--") and arg.partition("=")[0] in _VALUED:
            key, eq, value = arg.partition("=")
            if not eq:
                if i + 1 >= len(args):
                    return None
                value = args[i + 1]
                i += 1
            opts[_VALUED[key]] = value
        elif arg in _VALUED:
            if i + 1 >= len(args):
                return None
            opts[_VALUED[arg]] = args[i + 1]
            i += 1
        elif arg.startswith("-") or opts["query"] is not None:
            return None
        else:
            opts["query"] = arg
        i += 1
    if not opts["query"] or opts["mode"] not in _MODES:
        return None
    try:
        opts["limit"] = int(opts["limit"])
    except ValueError:
        return None
    return opts if 1 <= opts["limit"] <= 1000 else None


def search(args: list[str]) -> int | None:
    """Exit code of a search the running engine answered; None: take the full path."""
    import json
    import os

    opts = parse(args)
    if opts is None:
        return None
    from roocode_tui.core.text import parse_inline_filters

    query, inline_path, inline_lang = parse_inline_filters(opts["query"])
    if not query:
        return None
    payload = {
        "queries": [query],
        "collection": opts["collection"],
        "limit": opts["limit"],
        "path": opts["path"] or inline_path,
        "lang": opts["lang"] or inline_lang,
        "mode": opts["mode"],
        "cwd": os.getcwd(),
    }
    from roocode_tui.engine import quick

    answer = quick.search(None, payload)
    if answer is None:
        return None
    status, data = answer
    if status < 400 and opts["json"]:
        results = data.get("results") or [None]
        print(json.dumps(results[0], ensure_ascii=True))
        return 0
    from roocode_tui.cli_engine import show_answer

    return show_answer(status, data, json_out=opts["json"], batch=False)


if __name__ == "__main__":  # pragma: no cover
    main()
