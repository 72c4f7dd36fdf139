"""The packed-functions evaluation through the commands a user types (part of ``make eval``).

Held-out benchmarks are run with ``roocode-tui index DIR`` and ``roocode-tui search --batch
FILE`` on default settings, not with this evaluation's in-process pipeline. This runs
``packed.py``'s corpus and queries that way (a fresh HOME, no config file, the engine the
commands start, the bundled model; nothing reused) and puts the figures beside the in-process
ones: they must be the same, or a default differs between the two paths.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import packed  # noqa: E402
import run as base  # noqa: E402
from langs import ReusingEmbedder  # noqa: E402

BEGIN, END = "<!-- eval-cli:begin -->", "<!-- eval-cli:end -->"
SLICES = {"docstring sentence": lambda c: not c.identifier, "web-style": lambda c: c.identifier}


def command(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "roocode_tui.cli", *args], env=env, input=stdin, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"roocode-tui {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def main() -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="roocode-eval-cli-") as tmp:
        work = Path(tmp)
        corpus, home, runtime = work / "corpus", work / "home", work / "run"
        for d in (corpus, home, runtime):
            d.mkdir(mode=0o700)
        cases = packed.build(corpus)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ROOCODE_TUI_", "XDG_"))}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=str(runtime))
        try:
            command(env, "index", str(corpus), "--collection", "packed", "--json")
            lines = command(
                env, "search", "--batch", "-", "--collection", "packed", stdin="\n".join(c.query for c in cases)
            )
        finally:
            subprocess.run([sys.executable, "-m", "roocode_tui.cli", "serve", "--stop"], env=env, capture_output=True)
        answers = [json.loads(line) for line in lines.splitlines() if line.strip()]
        if [a["query"] for a in answers] != [c.query for c in cases]:
            sys.exit("search --batch answered other queries than it was given")
        runs = {
            "commands: index, search --batch": [
                [(h["path"], h["start_line"], h["end_line"]) for h in a["results"]] for a in answers
            ]
        }
        emb = ReusingEmbedder()
        in_process = asyncio.run(base.ours(corpus, work / "ours", emb, cases, ["hybrid"]))
        runs["in-process (packed.py's hybrid)"] = in_process["hybrid"]
        emb.save()
    rows = base.score_slices(runs, cases, SLICES)
    elapsed = time.perf_counter() - started
    same = all(a[2] == b[2] for a, b in zip(rows[: len(SLICES)], rows[len(SLICES) :], strict=True))
    base.write_table(
        BEGIN,
        END,
        "## Retrieval quality through the commands (`make eval`)",
        f"`packed.py`'s {len(cases) // 2} functions and {len(cases)} queries run through `roocode-tui index` and "
        "`roocode-tui search --batch` on default settings (a fresh HOME, no config file, the bundled model), "
        f"beside the in-process pipeline: {'the same figures' if same else '**the figures differ**'}. "
        f"Took {elapsed:.0f} s.",
        rows,
    )
    print(json.dumps({"seconds": round(elapsed), "same": same}))
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
