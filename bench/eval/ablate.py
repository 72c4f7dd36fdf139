"""Each signal of the ranking stack measured alone and together: ``python bench/eval/ablate.py DIR...``.

The repositories are those of bench/eval/repos.py (indexed there first; this reads its
cache). For every variant (the whole stack, the stack without one signal, fusion with one
signal only) it reports NDCG@10 on the tuning and the held-out half of each repository's
questions and their mean, so a signal is kept only where the held-out half agrees.
``--write`` puts the table into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import repos  # noqa: E402
import run as base  # noqa: E402
from langs import ReusingEmbedder  # noqa: E402

from roocode_tui.core.search import ranker  # noqa: E402
from roocode_tui.core.search.questions import Question  # noqa: E402
from roocode_tui.core.search.searcher import search_many  # noqa: E402
from roocode_tui.core.stores.edge import EdgeStore  # noqa: E402

BEGIN, END = "<!-- eval-ablate:begin -->", "<!-- eval-ablate:end -->"
OFF = {
    "coherence": {"COHERENCE": 0.0},
    "definition": {"DEFINITION": 0.0},
    "path": {"PATH": 0.0},
    "penalties": {"PENALTIES": dict.fromkeys(ranker.PENALTIES, 1.0)},
    "one file, one place": {"DECAY": dict.fromkeys(ranker.DECAY, 1.0)},
}
FUSION_ONLY = {k: v for off in OFF.values() for k, v in off.items()}


def variants() -> dict[str, dict]:
    out: dict[str, dict] = {"stack (default)": {}, "fusion only": FUSION_ONLY}
    for name, off in OFF.items():
        out[f"stack - {name}"] = off
    out["stack - fragments' penalty"] = {"PENALTIES": {**ranker.PENALTIES, "fragment": 1.0}}
    out["stack - a name in passing spelt alike"] = {"NAMED_CASE": False}
    out["stack - text's names in passing beyond its subject"] = {"NAMED_LEAD": False}
    out["stack - a Go doc sentence's first word as its name"] = {"SUBJECT_WORD": False}
    out["stack - docs' penalty for questions about code"] = {"PENALTIES": {**ranker.PENALTIES, "docs": 1.0}}
    out["stack - usage questions spared it"] = {"USAGE": False}
    out["stack - CI settings' penalty"] = {"PENALTIES": {**ranker.PENALTIES, "ci": 1.0}}
    out["stack - settings' keys not definitions"] = {"NAMED_CODE_ONLY": False}
    out["stack - definition over a C prototype"] = {"PROTOTYPES": False}
    out["stack + package initialisers x0.5"] = {"PENALTIES": {**ranker.PENALTIES, "initialiser": 0.5}}
    for name, off in OFF.items():
        out[f"fusion + {name}"] = {k: v for k, v in FUSION_ONLY.items() if k not in off}
    for alpha in (0.4, 0.6, 0.8):
        out[f"stack, question alpha {alpha}"] = {"ALPHA": {**ranker.ALPHA, "question": alpha}}
    out["stack, question decay 0.7 (as text)"] = {"DECAY": {**ranker.DECAY, "question": 0.7}}
    out["stack, question decay 0.3"] = {"DECAY": {**ranker.DECAY, "question": 0.3}}
    out["stack, text decay 0.7 (as a name)"] = {"DECAY": {**ranker.DECAY, "text": 0.7}}
    out["stack, text decay 0.85"] = {"DECAY": {**ranker.DECAY, "text": 0.85}}
    for alpha in (0.6, 0.7, 0.8):
        out[f"stack, text alpha {alpha}"] = {"ALPHA": {**ranker.ALPHA, "text": alpha}}
    for alpha in (0.2, 0.5):
        out[f"stack, symbol alpha {alpha}"] = {"ALPHA": {**ranker.ALPHA, "symbol": alpha}}
    return out


def parse_try(spec: str) -> dict:
    values: dict = {}
    for part in spec.split(","):
        name, _, raw = part.partition("=")
        value = json.loads(raw)
        if "." in name:
            table, key = name.split(".", 1)
            values.setdefault(table, dict(getattr(ranker, table)))[key] = value
        else:
            values[name] = value
    return values


@contextlib.contextmanager
def patched(values: dict) -> Iterator[None]:
    saved = {k: getattr(ranker, k) for k in values}
    for k, v in values.items():
        setattr(ranker, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(ranker, k, v)


async def run_repo(source: Path, emb: ReusingEmbedder, chosen: dict[str, dict]) -> list[dict]:
    name, tree = repos.clone(source)
    store = EdgeStore(repos.CACHE / name / "store")
    rows = []
    for which, qs in (await repos.question_sets(name, tree, store)).items():
        for label, values in chosen.items():
            with patched(values):
                results = await search_many(store, emb, name, [q.text for q in qs], limit=10, mode="hybrid")
            rows.append(repos.score_row(name, label, qs, results, which))
    await store.close()
    return rows


CHUNK_EVALS = ("run", "packed", "docs", "langs:LANG")  # the chunk-level evaluations of make eval


async def run_chunk_eval(which: str, emb: ReusingEmbedder, chosen: dict[str, dict]) -> list[dict]:
    """A chunk-level evaluation of ``make eval`` (its corpus and queries, MRR@10 of the hit
    that covers the target) under each variant, split into the same two halves."""
    import importlib
    import shutil

    from roocode_tui.core.config import IndexSettings
    from roocode_tui.core.ingest.indexer import Indexer

    home = HERE / ".cache" / "chunk-evals" / which.replace(":", "-")
    corpus, data = home / "corpus", home / "store"
    if not data.exists():
        shutil.rmtree(home, ignore_errors=True)
        corpus.mkdir(parents=True)
    if which.startswith("langs:"):  # one language of langs.py: its corpus, doc comments blanked
        import langs

        cases = langs.build(which.split(":", 1)[1], corpus)
    else:
        module = importlib.import_module(which)
        cases = (module.build_corpus if which == "run" else module.build)(corpus)
    store = EdgeStore(data)
    await Indexer(store, emb, "ours", [corpus], index=IndexSettings()).run()
    emb.save()

    def half(text: str) -> str:  # the halves of roocode-tui eval's questions, by the same hash
        return Question(text, "", ()).half

    rows = []
    for label, values in chosen.items():
        with patched(values):
            results = await search_many(store, emb, "ours", [c.query for c in cases], limit=10, mode="hybrid")
        ranked = [[(h.path, h.start_line, h.end_line) for h in r.hits] for r in results]
        row = {"repo": f"{which} (chunks)", "pipeline": label}
        for name in ("tune", "held-out"):
            idx = [i for i, c in enumerate(cases) if half(c.query) == name]
            m = base.score([cases[i] for i in idx], [ranked[i] for i in idx])
            row[name] = {"ndcg@10": m["mrr@10"], "mrr@10": m["mrr@10"], "recall@10": m["recall@10"]}
        m = base.score(cases, ranked)
        row["all"] = {"ndcg@10": m["mrr@10"], "mrr@10": m["mrr@10"], "recall@10": m["recall@10"]}
        rows.append(row)
    await store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repos", nargs="*", type=Path)
    parser.add_argument(
        "--chunks",
        default="",
        help=f"also these chunk-level evaluations ({','.join(CHUNK_EVALS)}), scored by MRR@10 of the target chunk",
    )
    parser.add_argument("--only", help="comma-separated variant labels")
    parser.add_argument(
        "--try",
        dest="tries",
        action="append",
        default=[],
        metavar="NAME=VALUE[,NAME=VALUE]",
        help="a variant of the stack's constants, e.g. PATH=0.5 or PENALTIES.docs=0.7,DECAY.text=0.3",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    chosen = variants()
    if args.only:
        chosen = {k: v for k, v in chosen.items() if k in args.only.split(",")}
    for spec in args.tries:
        chosen[spec] = parse_try(spec)
    started = time.perf_counter()
    emb = ReusingEmbedder()
    emb.save = lambda: None  # type: ignore[method-assign]
    rows: list[dict] = []
    for source in args.repos:
        rows += asyncio.run(run_repo(source, emb, chosen))
    for which in [w for w in args.chunks.split(",") if w]:
        rows += asyncio.run(run_chunk_eval(which, emb, chosen))
    tables = {which: table(rows, list(chosen), which) for which in ("mined", "written")}
    for which, (means, names, per) in tables.items():
        if not means:
            continue
        width = max(len(k) for k in chosen)
        print(f"{which} questions\n{'variant':{width}}  tune   held   all   " + " ".join(f"{n[:8]:>8}" for n in names))
        for m, cells in zip(means, per, strict=True):
            print(
                f"{m['pipeline']:{width}}  {m['tune']['ndcg@10']:.3f}  {m['held-out']['ndcg@10']:.3f}  "
                f"{m['all']['ndcg@10']:.3f} " + " ".join(f"{c:8.3f}" for c in cells)
            )
    if args.write:
        write(tables, time.perf_counter() - started)
    print(json.dumps({"seconds": round(time.perf_counter() - started)}))


def table(rows: list[dict], labels: list[str], which: str) -> tuple[list[dict], list[str], list[list[float]]]:
    """One set's means per variant, its columns (repositories, chunk evaluations) and each
    variant's cells."""
    mine = [r for r in rows if r.get("set", "mined") == which]
    means = repos.mean_rows(mine, labels, which)
    names = list(dict.fromkeys(r["repo"] for r in mine))
    per = [
        [next(r for r in mine if r["repo"] == n and r["pipeline"] == m["pipeline"])["all"]["ndcg@10"] for n in names]
        for m in means
    ]
    return means, names, per


def write(tables: dict[str, tuple[list[dict], list[str], list[list[float]]]], elapsed: float) -> None:
    lines = [
        BEGIN,
        "## The ranking stack's signals, alone and together (bench/eval/ablate.py)",
        "",
        "Hybrid search over the whole-repository questions above (file-level NDCG@10) and, where "
        "asked (`--chunks`), the chunk-level evaluations of `make eval` (MRR@10 of the target chunk): "
        f"the mean of all, per half, and each one (all questions). Took {elapsed:.0f} s.",
    ]
    for which, (means, names, per) in tables.items():
        if not means:
            continue
        lines += [
            "",
            "Mined questions and the chunk evaluations:"
            if which == "mined"
            else "Written questions (file-level NDCG@10):",
            "",
            "| variant | tune | held-out | all | " + " | ".join(names) + " |",
            "|---|---|---|---|" + "---|" * len(names),
        ]
        for m, cells in zip(means, per, strict=True):
            lines.append(
                f"| {m['pipeline']} | {m['tune']['ndcg@10']:.3f} | {m['held-out']['ndcg@10']:.3f} | "
                f"{m['all']['ndcg@10']:.3f} | " + " | ".join(f"{c:.3f}" for c in cells) + " |"
            )
    lines.append(END)
    base.write_section("\n".join(lines), BEGIN, END)


if __name__ == "__main__":
    main()
