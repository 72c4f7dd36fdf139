"""Whole-repository questions: ``make eval`` (``EVAL_REPOS="DIR ..."``) or ``python bench/eval/repos.py DIR...``.

Each DIR is a git repository (a work tree or a bare clone) with its history. It is cloned
into ``bench/eval/.cache/repos/NAME``, indexed whole as a user would index it (code, docs,
tests), and asked the questions ``roocode-tui eval`` mines from its history
(core/search/questions.py: small commits' subjects answered by the files they touched, and bare
definition names answered by the file that defines them). Scored as the published
whole-repository benchmarks score (core/search/evaluation.py: chunk lists, an answering file at the
rank of its first chunk). Without DIRs, this repository itself is asked.

Each question falls in a tuning or a held-out half (a hash of its text): a ranking rule is
kept only where the held-out half agrees. ``--pipelines a,b`` limits the pipelines run;
``--write`` puts the table into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import run as base  # noqa: E402
from langs import ReusingEmbedder  # noqa: E402

from roocode_tui.core.chunking.keywords import definition_name  # noqa: E402
from roocode_tui.core.config import IndexSettings  # noqa: E402
from roocode_tui.core.ingest.indexer import Indexer  # noqa: E402
from roocode_tui.core.search import evaluation, questions  # noqa: E402
from roocode_tui.core.search.searcher import search_many  # noqa: E402
from roocode_tui.core.stores.edge import EdgeStore  # noqa: E402

CACHE = HERE / ".cache" / "repos"
#: the languages of the repositories this was run on (bench/RESULTS.md); others show none
LANGUAGES = {
    "requests": "Python",
    "cobra": "Go",
    "log": "Rust",
    "ky": "TypeScript",
    "express": "JavaScript",
    "hiredis": "C",
    "httparty": "Ruby",
    "mkdocs": "docs + Python",
    "p-queue": "TypeScript",
    "itsdangerous": "Python",
    "cJSON": "C",
}
BEGIN, END = "<!-- eval-repos:begin -->", "<!-- eval-repos:end -->"
#: questions written about a repository (``written/NAME.jsonl``), asked beside the mined ones
WRITTEN = HERE / "written"
#: the commits the written questions were written against (their answers are files there)
PINNED = {
    "cobra": "adbc8813901bba65827259daa8e22ff94ec1f30e",
    "express": "a3714473feb3d2908add734d340e7755fd85e0a3",
    "hiredis": "29ea2791c102fdffff350f1ea6e04d1f71903d0d",
    "httparty": "2daba91bf3f61de2676a2e906f4d3181ebadea83",
    "ky": "3419113b48e034fdcf8fa6bd3be3da7b3d0d758f",
    "log": "037d7a58f6ad184abb3afc4db81d37c43a5696ec",
    "mkdocs": "2862536793b3c67d9d83c33e0dd6d50a791928f8",
    "requests": "1f6589ec3a1ee910f9a65cc3ceac60b26677bc0e",
    # written after the rules of the ranking stack for questions were chosen: never tuned on
    "p-queue": "180ab9e25cd10b6f548767d7176076b50d25e188",
    "itsdangerous": "672971d66a2ef9f85151e53283113f33d642dabd",
    "cJSON": "a29814f285cc531c00223743ad3c55cd38c0dc56",
}
MAX_HISTORY, MAX_SYMBOLS = 120, 40  # questions per repository
#: label -> search_many options
SEED = "seed (512 chars, dense)"
PIPELINES: dict[str, dict] = {
    SEED: {"mode": "dense", "ranking": False, "merge": False},
    "dense": {"mode": "dense", "ranking": False},
    "keyword (BM25)": {"mode": "keyword", "ranking": False},
    "hybrid (no stack)": {"mode": "hybrid", "ranking": False},
    "hybrid + stack (default)": {"mode": "hybrid", "ranking": True},
}


def clone(source: Path) -> tuple[str, Path]:
    name = source.resolve().name
    if name in ("repo", ".git"):
        name = source.resolve().parent.name
    name = name.split("+")[-1].removesuffix(".git")
    dest = CACHE / name / "tree"
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", "--shared", str(source), str(dest)], check=True)
        if name in PINNED:  # the commit the written questions were written against, where it has it
            subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", PINNED[name]], capture_output=True)
    return name, dest


async def index(name: str, tree: Path, emb: ReusingEmbedder) -> EdgeStore:
    store = EdgeStore(CACHE / name / "store")
    started = time.perf_counter()
    progress = await Indexer(store, emb, name, [tree], index=IndexSettings()).run()
    emb.save()
    print(
        f"{name}: {progress.files_done} files, {await store.count(name)} chunks "
        f"({time.perf_counter() - started:.0f} s, {emb.embedded} embedded so far)",
        flush=True,
    )
    return store


async def seed_index(name: str, tree: Path, emb: ReusingEmbedder) -> EdgeStore:
    """The seed's pipeline over the same files: 512-character pieces, 50 overlap, no context
    header, dense only (as bench/eval/run.py's seed, over a whole tree)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from roocode_tui.core.files.discovery import SourceFile, Walker, read_source
    from roocode_tui.core.ingest.jobs import point_id
    from roocode_tui.core.stores.base import CollectionMeta, PointRecord

    store = EdgeStore(CACHE / name / "seed-store")
    if await store.get_meta("seed") is not None:
        return store
    await store.create_collection(CollectionMeta("seed", emb.model_id, 384, emb.query_prefix, emb.document_prefix))
    splitter = RecursiveCharacterTextSplitter(chunk_size=512, chunk_overlap=50, add_start_index=True)
    for item in Walker(tree):
        if not isinstance(item, SourceFile):
            continue
        try:
            text = read_source(item, IndexSettings().max_file_bytes).text
        except Exception:
            continue
        docs = splitter.create_documents([text])
        if not docs:
            continue
        pieces = [d.page_content for d in docs]
        vectors = [v for i in range(0, len(pieces), 32) for v in await emb.embed_documents(pieces[i : i + 32])]
        points = []
        for d, vec in zip(docs, vectors, strict=True):
            start = text.count("\n", 0, d.metadata["start_index"]) + 1
            payload = {
                "root": str(tree),
                "path": item.path,
                "start_line": start,
                "end_line": start + d.page_content.count("\n"),
                "language": item.language,
                "text": d.page_content,
            }
            pid = point_id(str(tree), item.path, str(d.metadata["start_index"]))
            points.append(PointRecord(pid, vec, payload))
        await store.upsert("seed", points)
    emb.save()
    return store


async def asked(name: str, tree: Path, store: EdgeStore) -> list[questions.Question]:
    paths = await store.distinct_paths(name)
    mined = questions.mine_history(tree, paths, limit=MAX_HISTORY)
    definitions = []
    offset = None
    while True:
        batch, offset = await store.scroll(name, offset, 1024)
        for record in batch:
            spelt = definition_name(str(record.payload.get("heading", "")))
            if spelt:
                definitions.append((spelt, str(record.payload.get("path", ""))))
        if offset is None:
            break
    return mined + questions.symbol_questions(definitions, limit=MAX_SYMBOLS)


def written(name: str, tree: Path, paths: set[str]) -> list[questions.Question]:
    """The questions written about this repository (``written/NAME.jsonl``: one JSON object a
    line, ``kind`` behaviour | architecture | symbol | docs, ``text``, ``files`` that answer it,
    most relevant first), those with an answering file indexed; none when the tree is not at
    the commit they were written against."""
    source = WRITTEN / f"{name}.jsonl"
    if not source.exists():
        return []
    head = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    if PINNED.get(name) not in (None, head):
        print(f"{name}: written questions skipped (tree at {head[:12]}, written at {PINNED[name][:12]})", flush=True)
        return []
    return questions.load_questions(source, {str(tree): sorted(paths)})[0]  # as eval --ask reads them


async def question_sets(name: str, tree: Path, store: EdgeStore) -> dict[str, list[questions.Question]]:
    """``mined`` (the history's and the definitions', as ``roocode-tui eval`` asks) and
    ``written`` (:func:`written`, where there are any)."""
    sets = {"mined": await asked(name, tree, store)}
    mine = written(name, tree, set(await store.distinct_paths(name)))
    if mine:
        sets["written"] = mine
    return sets


async def run_repo(source: Path, emb: ReusingEmbedder, pipelines: list[str], seed_for: set[str] | None) -> list[dict]:
    name, tree = clone(source)
    if seed_for is not None and name not in seed_for:
        pipelines = [p for p in pipelines if p != SEED]
    store = await index(name, tree, emb)
    sets = await question_sets(name, tree, store)
    rows = []
    for which, qs in sets.items():
        print(f"{name}, {which}: {len(qs)} questions " + json.dumps(_count_kinds(qs)), flush=True)
        for label in pipelines:
            if label == SEED:
                seed = await seed_index(name, tree, emb)
                results = await search_many(seed, emb, "seed", [q.text for q in qs], limit=10, **PIPELINES[label])
                await seed.close()
            else:
                results = await search_many(store, emb, name, [q.text for q in qs], limit=10, **PIPELINES[label])
            row = score_row(name, label, qs, results, which)
            rows.append(row)
            print(f"  {label:28} " + _line(row), flush=True)
    await store.close()
    emb.save()
    return rows


def score_row(name: str, label: str, qs: list[questions.Question], results: list, which: str = "mined") -> dict:
    """One pipeline's scores on one repository's questions (``which`` set): per half and in all."""
    scored = [(q, evaluation.score(q, [h.path for h in r.hits])) for q, r in zip(qs, results, strict=True)]
    row: dict = {"repo": name, "pipeline": label, "set": which}
    for half in ("tune", "held-out"):
        row[half] = evaluation.summarise([(q, s) for q, s in scored if q.half == half]).to_json()
    row["all"] = evaluation.summarise(scored).to_json()
    return row


def _count_kinds(qs: list[questions.Question]) -> dict[str, int]:
    out: dict[str, int] = {}
    for q in qs:
        out[q.kind] = out.get(q.kind, 0) + 1
    return out


def _line(row: dict) -> str:
    kinds = row["all"].get("by_kind", {})
    return (
        "  ".join(f"{half} {row[half]['ndcg@10']:.3f}" for half in ("tune", "held-out", "all"))
        + "  "
        + "  ".join(f"{kind} {s['ndcg@10']:.3f}" for kind, s in kinds.items())
    )


def mean_rows(rows: list[dict], pipelines: list[str], which: str = "mined") -> list[dict]:
    """The mean of each pipeline's rows over the repositories, for one set of questions."""
    rows = [r for r in rows if r.get("set", "mined") == which]
    out = []
    for label in pipelines:
        mine = [r for r in rows if r["pipeline"] == label]
        if not mine:
            continue
        count = len({r["repo"] for r in rows})
        row = {"repo": "mean" if len(mine) == count else f"mean of {len(mine)}", "pipeline": label, "set": which}
        for half in ("tune", "held-out", "all"):
            row[half] = {
                key: round(sum(r[half][key] for r in mine) / len(mine), 4) for key in ("ndcg@10", "mrr@10", "recall@10")
            }
        kinds: dict[str, list[float]] = {}
        for r in mine:
            for kind, s in r["all"].get("by_kind", {}).items():
                kinds.setdefault(kind, []).append(s["ndcg@10"])
        row["all"]["by_kind"] = {k: {"ndcg@10": round(sum(v) / len(v), 4)} for k, v in kinds.items()}
        out.append(row)
    return out


def write(rows: list[dict], elapsed: float) -> None:
    lines = [
        BEGIN,
        "## Whole-repository questions (`make eval EVAL_REPOS=...`, bench/eval/repos.py)",
        "",
        "Questions mined from each repository's history by `roocode-tui eval`'s miner (commit subjects "
        "answered by the files the commit touched; bare definition names answered by their file), "
        "over the whole repository indexed as a user would (code, docs and tests). File-level "
        "NDCG@10 as the published benchmarks score it (a file counts at its first chunk). Each "
        f"question is in the tuning or the held-out half by a hash of its text. Took {elapsed:.0f} s.",
        "",
        *_table([r for r in rows if r.get("set", "mined") == "mined"], ("behaviour", "docs", "symbol")),
    ]
    mine = [r for r in rows if r.get("set") == "written"]
    if mine:
        lines += [
            "",
            "### Written questions (`bench/eval/written/`)",
            "",
            "Questions as a developer new to each repository asks them (30 a repository: behaviour, "
            "architecture, a named symbol, the docs), written by reading the code at the pinned commit "
            "(`repos.PINNED`) and labelled with the 1-3 files that answer them, without running or "
            "reading roocode-tui's search. The ranking stack's rules for questions were then chosen on "
            "them, a rule kept only where both halves agree (bench/eval/ablate.py). Scored as above.",
            "",
            *_table(mine, ("behaviour", "architecture", "docs", "symbol")),
        ]
    lines.append(END)
    base.write_section("\n".join(lines), BEGIN, END)


def _table(rows: list[dict], kinds: tuple[str, ...]) -> list[str]:
    titles = {"docs": "docs (markdown)"}
    lines = [
        "| repository | pipeline | NDCG@10 tune | held-out | all | "
        + " | ".join(titles.get(k, k) for k in kinds)
        + " | MRR@10 | R@10 |",
        "|---|---|---|---|---|" + "---|" * len(kinds) + "---|---|",
    ]
    for r in rows:
        by_kind = r["all"].get("by_kind", {})
        per = [f"{by_kind[k]['ndcg@10']:.3f}" if k in by_kind else "" for k in kinds]
        label = f"{r['repo']} ({LANGUAGES[r['repo']]})" if r["repo"] in LANGUAGES else r["repo"]
        lines.append(
            f"| {label} | {r['pipeline']} | {r['tune']['ndcg@10']:.3f} | {r['held-out']['ndcg@10']:.3f} | "
            f"{r['all']['ndcg@10']:.3f} | {' | '.join(per)} | {r['all']['mrr@10']:.3f} | {r['all']['recall@10']:.3f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repos", nargs="*", type=Path, help="git repositories (default: this one)")
    parser.add_argument("--pipelines", help="comma-separated labels of PIPELINES (default: all)")
    parser.add_argument("--index-only", action="store_true")
    parser.add_argument(
        "--seed-for", help="comma-separated repository names: the seed's pipeline only for these (it embeds again)"
    )
    parser.add_argument("--write", action="store_true", help="write the table into bench/RESULTS.md")
    parser.add_argument(
        "--no-save", action="store_true", help="leave the vector cache as it is (another run writes it)"
    )
    args = parser.parse_args()
    pipelines = args.pipelines.split(",") if args.pipelines else list(PIPELINES)
    repos = args.repos or [HERE.parents[1]]
    started = time.perf_counter()
    emb = ReusingEmbedder()
    if args.no_save:
        emb.save = lambda: None  # type: ignore[method-assign]
    rows: list[dict] = []
    for source in repos:
        if args.index_only:
            name, tree = clone(source)
            asyncio.run(_index_only(name, tree, emb))
            continue
        seed_for = set(args.seed_for.split(",")) if args.seed_for else None
        rows += asyncio.run(run_repo(source, emb, pipelines, seed_for))
    if rows:
        means = mean_rows(rows, pipelines) + mean_rows(rows, pipelines, "written")
        for row in means:
            print(f"mean, {row['set']:8} {row['pipeline']:28} " + _line(row))
        if args.write:
            write(rows + means, time.perf_counter() - started)
        print(json.dumps({"seconds": round(time.perf_counter() - started), "rows": rows + means}))


async def _index_only(name: str, tree: Path, emb: ReusingEmbedder) -> None:
    store = await index(name, tree, emb)
    await store.close()


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
