"""The ``roocode-tui`` command. A plain ``search`` that a running engine can answer is sent
before anything else is imported (no argparse tree, no settings, no event loop, not even the
json module: see engine/quick.py), so a script or an agent asking many questions pays for
Python's start-up and the search itself. It is the search command's own route (cli/search.py)
with the command line read here: the same request and transport, ``--json`` printed as the
engine wrote it, the text and errors by cli/search.py. Everything else, and any search this
does not understand, is cli.main's.
"""

from __future__ import annotations

import sys

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


def parse(args: list[str]) -> dict[str, object] | None:
    """The search this understands: {"query", "collection", "limit", "path", "lang", "mode",
    "json"}; None for anything else."""
    opts: dict[str, object] = {"query": None, "collection": None, "limit": "10", "path": None, "lang": None}
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
        limit = int(str(opts["limit"]))
    except ValueError:
        return None
    opts["limit"] = limit
    return opts if 1 <= limit <= 1000 else None


def search(args: list[str]) -> int | None:
    """Exit code of a search the running engine answered; None: take the full path."""
    import os

    from roocode_tui.engine import quick

    opts = parse(args)
    if opts is None:
        return None
    query, path, lang = str(opts["query"]), opts["path"], opts["lang"]
    if ":" in query:  # path:PREFIX and lang:NAME inside the query
        from roocode_tui.core.display import parse_inline_filters

        query, inline_path, inline_lang = parse_inline_filters(query)
        path, lang = path or inline_path, lang or inline_lang
    else:
        query = " ".join(query.split())
    if not query:
        return None
    request = quick.search_request(
        [query], opts["collection"], limit=opts["limit"], path=path, lang=lang, mode=opts["mode"], cwd=os.getcwd()
    )
    json_out = bool(opts["json"])
    answer = quick.search(None, request, out="json-line" if json_out else None)
    if json_out and answer is not None and answer[0] < 400:
        sys.stdout.buffer.write(answer[1])  # the engine made it exactly as print_results prints it
        sys.stdout.flush()
        return 0
    from roocode_tui.cli.search import show  # the text, or the engine's refusal: the command's one route

    return show(answer, json_out=json_out)


if __name__ == "__main__":  # pragma: no cover
    main()
