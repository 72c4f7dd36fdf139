"""Questions over markdown documentation (part of ``make eval``).

The corpus is Node.js's API reference, the markdown its site is built from, as Debian's
``nodejs-doc`` ships it: prose that names code at every turn (`` `os.cpus()` ``,
`` `'SIGINT'` ``, ``highWaterMark``), under headings that are code (``### `path.basename(path[,
suffix])` ``). Each query is the first sentence of a section's first paragraph of prose; the
indexed copy has that paragraph blanked (line numbers kept), so a query can only be answered by
the rest of the section: its heading, its parameter list, its other paragraphs and examples.
A hit covers half the section or lies half inside it (``run.is_hit``). Slices: queries that name
code (a backticked span) and plain prose. Rows: the seed's pipeline, this project's (dense,
hybrid), all with the embedded default model; vectors are reused from ``bench/eval/.cache``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import run as base  # noqa: E402
from langs import CACHE, ReusingEmbedder, _apt, distinct_sample, first_sentence  # noqa: E402

BEGIN, END = "<!-- eval-docs:begin -->", "<!-- eval-docs:end -->"
PACKAGE = "nodejs-doc"
API = "x/usr/share/doc/nodejs/api"
PAGES = [
    "console", "dns", "events", "os", "path", "querystring", "readline", "timers", "url",
    "worker_threads", "zlib",
]  # fmt: skip
_HEADING = re.compile(r"^(#{1,6})\s+\S")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK = re.compile(r"\[([^\]]*)\](?:\[[^\]]*\]|\([^)]*\))")


def pages() -> list[tuple[str, str]]:
    """(file name, markdown) of each page, fetched once into the eval's cache."""
    dest = CACHE / "docs"
    done = dest / ".done"
    if not done.exists() or done.read_text() != PACKAGE:
        _apt([PACKAGE])(dest)
        done.write_text(PACKAGE)
    return [(f"{p}.md", gzip.decompress((dest / API / f"{p}.md.gz").read_bytes()).decode()) for p in PAGES]


def sections(lines: list[str]) -> list[tuple[int, int]]:
    """(first row, last row) of each section: a heading up to the next heading of any level,
    headings inside code fences not counted."""
    heads, fenced = [], False
    for row, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _HEADING.match(line):
            heads.append(row)
    ends = [*heads[1:], len(lines)]
    return [(h, e - 1) for h, e in zip(heads, ends, strict=True)]


def first_paragraph(lines: list[str], start: int, end: int) -> tuple[int, int] | None:
    """Rows of the section's first paragraph of prose: not a list, table, quote, HTML comment
    (Node's ``<!-- YAML`` history blocks), code fence or stability note."""
    row, fenced, comment = start + 1, False, False
    while row <= end:
        line = lines[row].strip()
        if _FENCE.match(line):
            fenced = not fenced
        elif comment or line.startswith("<!--"):
            comment = "-->" not in line
        elif not fenced and line and (line[0].isalpha() or line[0] == "`"):
            if line.startswith(("Stability:", "Added in", "Type:")):
                row += 1
                continue
            last = row
            while last < end and lines[last + 1].strip() and not lines[last + 1].lstrip().startswith(("*", "-", "|")):
                last += 1
            return row, last
        row += 1
    return None


def build(dest: Path) -> list[base.Case]:
    cases: list[base.Case] = []
    for name, text in pages():
        lines = text.split("\n")
        for start, end in sections(lines):
            para = first_paragraph(lines, start, end)
            if para is None:
                continue
            prose = " ".join(lines[r].strip() for r in range(para[0], para[1] + 1))
            query = first_sentence(_LINK.sub(r"\1", prose))  # [`dns.lookup()`][] -> `dns.lookup()`
            rest = [r for r in range(start + 1, end + 1) if lines[r].strip() and not para[0] <= r <= para[1]]
            if len(re.findall(r"[A-Za-z]{2,}", query)) < 5 or len(rest) < 2:
                continue  # too short a question, or nothing left to find it by but the heading
            for r in range(para[0], para[1] + 1):
                lines[r] = ""
            # Case.identifier marks a query that names code (a backticked span)
            cases.append(base.Case(query, name, start + 1, end + 1, "`" in query))
        (dest / name).write_text("\n".join(lines))
    return distinct_sample(cases)


def main() -> None:
    started = time.perf_counter()
    emb = ReusingEmbedder()
    with tempfile.TemporaryDirectory(prefix="roocode-eval-docs-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        corpus.mkdir()
        cases = build(corpus)
        size = sum(p.stat().st_size for p in corpus.iterdir())
        print(f"{len(cases)} queries over {len(PAGES)} pages ({size // 1024} KiB)", flush=True)
        runs = {"seed (512 chars, no context)": asyncio.run(base.seed_pipeline(corpus, work / "seed", emb, cases))}
        runs.update(asyncio.run(base.ours(corpus, work / "ours", emb, cases, ["dense", "hybrid"])))
        emb.save()
    slices = {"all": lambda c: True, "names code": lambda c: c.identifier, "plain prose": lambda c: not c.identifier}
    rows = base.score_slices(runs, cases, slices)
    elapsed = time.perf_counter() - started
    base.write_table(
        BEGIN,
        END,
        "## Retrieval quality: questions over markdown documentation (`make eval`)",
        f"Node.js 18's API reference ({', '.join(PAGES)}; the markdown Debian's `nodejs-doc` ships, "
        f"{size // 1024} KiB). Each query is the first sentence of a section's first paragraph of prose, "
        'blanked in the indexed copy; the target is the rest of that section. "Names code": the '
        "sentence has a backticked span. Embedded default model for every row; "
        f"took {elapsed:.0f} s (vectors reused from earlier runs).",
        rows,
    )
    print(json.dumps({"seconds": round(elapsed), "embedded": emb.embedded}))


if __name__ == "__main__":
    main()
