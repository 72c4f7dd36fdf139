"""Embedding once, end to end with real git worktrees and clones: the command line indexes a
repository, then a worktree of it (1% of its files changed) and a second clone; an agent's
schema the same way, with its cache handed over; ``--dry-run`` before a run that follows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.cli import cli
from support.repos import git

pytestmark = pytest.mark.usefixtures("forked_cli")

FILES = 200  # 1% of them change in the worktree: 2 files

MODULE = '''"""Module {i}: the {topic} helpers of the shop."""


def load_{i}(path):
    # read the {topic} records of shop {i} from a file, one per line
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def total_{i}(records, rate={i}):
    # the sum of the {topic} amounts, taxed at the shop's rate
    return sum(float(r.split(",")[1]) for r in records) * (1 + rate / 100)


def report_{i}(records):
    # one line per {topic} record for the daily report of shop {i}
    return "\\n".join(f"{{n}}: {{r}}" for n, r in enumerate(records))
'''
TOPICS = ["invoice", "refund", "shipping", "discount", "inventory", "payroll", "coupon", "ledger"]


def make_repo(root: Path) -> Path:
    for i in range(FILES):
        path = root / f"pkg{i % 10}" / f"mod{i:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MODULE.format(i=i, topic=TOPICS[i % len(TOPICS)]))
    (root / "README.md").write_text("# Shop\n\nThe shop's helpers, one module per shop.\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the shop")
    return root


def change_one_function(tree: Path, i: int) -> None:
    path = tree / f"pkg{i % 10}" / f"mod{i:03d}.py"
    path.write_text(path.read_text().replace("# one line per", "# one line, numbered, per"))


def env_for(tmp_path: Path, embed_server, backend: str = "embedded") -> dict[str, str]:
    return {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
        "ROOCODE_TUI_EMBEDDER__BATCH_SIZE": "4",
        "ROOCODE_TUI_EMBEDDER__PRICE_PER_MILLION_TOKENS": "0.02",
        "ROOCODE_TUI_STORE__BACKEND": backend,
        "ROOCODE_TUI_STORE__PATH": str(tmp_path / "data"),
        "ROOCODE_TUI_INDEX__CHUNK_TOKENS": "60",
        "ROOCODE_TUI_INDEX__CHUNK_OVERLAP_TOKENS": "0",
        "XDG_CONFIG_HOME": str(tmp_path / "home" / ".config"),
    }


def run_json(*args: str, home: Path, env: dict[str, str]) -> dict:
    done = cli(*args, "--json", home=home, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def search_ids(query: str, collection: str, home: Path, env: dict[str, str]) -> list[tuple[str, str, int, float]]:
    found = run_json("search", query, "--collection", collection, "--mode", "dense", "-n", "10", home=home, env=env)
    return [(r["id"], r["path"], r["start_line"], r["score"]) for r in found["results"]]


@pytest.mark.slow
def test_a_worktree_and_a_clone_embed_only_their_changed_chunks(tmp_path: Path, embed_server):
    home = tmp_path / "home"
    home.mkdir()
    env = env_for(tmp_path, embed_server)
    repo = make_repo(tmp_path / "shop")

    first = run_json("index", str(repo), home=home, env=env)
    assert first["files_indexed"] == FILES + 1 and first["chunks_reused_from_other_collections"] == 0
    first_requests = first["embed_requests"]
    assert first_requests >= 100 and embed_server.requests == first_requests + 1  # and the size probe

    # a worktree on a branch, two files (1%) changed: one function of each
    worktree = tmp_path / "shop-feature"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))
    for i in (7, 120):
        change_one_function(worktree, i)
    embed_server.reset_counts()

    plan = run_json("index", str(worktree), "--dry-run", home=home, env=env)
    assert plan["dry_run"] is True and set(embed_server.inputs) == {"dimension probe"}  # nothing embedded ...
    listed = json.loads(cli("collections", "list", "--json", home=home, env=env).stdout)["collections"]
    assert [c["name"] for c in listed] == ["shop"]  # ... nor written
    assert plan["files_to_index"] == FILES + 1 and plan["chunks_to_embed"] == 2
    assert {f["path"] for f in plan["files"] if f["embed"]} == {"pkg7/mod007.py", "pkg0/mod120.py"}
    assert plan["estimate"]["rate_tokens_per_s"] > 0 and "collection 'shop'" in plan["estimate"]["rate_from"]
    assert plan["estimate"]["cost"] == pytest.approx(plan["tokens_to_embed"] / 1e6 * 0.02)

    embed_server.reset_counts()
    second = run_json("index", str(worktree), home=home, env=env)
    assert second["collection"] == "shop-feature" and second["files_indexed"] == FILES + 1
    assert second["chunks_embedded"] == 2  # the two changed functions, nothing else
    assert second["chunks_reused_from_other_collections"] == first["chunks_embedded"] - 2
    assert second["embed_requests"] == embed_server.requests - 1 <= 0.02 * first_requests
    # the plan's figures are the run's
    assert plan["tokens_to_embed"] == second["tokens_embedded"]
    assert plan["chunks_reused_from_other_collections"] == second["chunks_reused_from_other_collections"]
    assert second["reuse"]["sources"] == ["shop"] and second["reuse"]["queries"] >= 1

    # a reused collection answers exactly as one embedded afresh: same ids, same scores
    fresh = run_json("index", str(worktree), "--collection", "fresh", "--no-reuse", home=home, env=env)
    assert fresh["chunks_embedded"] == first["chunks_embedded"] and fresh["chunks_reused_from_other_collections"] == 0
    for query in ("refund amounts taxed at the shop's rate", "daily report numbered lines", "load_120"):
        reused, again = search_ids(query, "shop-feature", home, env), search_ids(query, "fresh", home, env)
        assert [r[:3] for r in reused] == [r[:3] for r in again] and len(reused) == 10
        assert all(abs(a[3] - b[3]) <= 1e-6 for a, b in zip(reused, again, strict=True))

    # a second clone of the repository embeds nothing at all
    clone = tmp_path / "elsewhere" / "shop"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, capture_output=True)
    embed_server.reset_counts()
    third = run_json("index", str(clone), "--collection", "shop-clone", home=home, env=env)
    assert third["files_indexed"] == FILES + 1 and third["chunks_embedded"] == 0 and third["embed_requests"] == 0

    human = cli("index", str(worktree), "--dry-run", home=home, env=env)
    assert human.returncode == 0, human.stderr
    assert "plan for collection shop-feature (nothing embedded or written)" in human.stdout
    assert "0 chunks (0 tokens) to embed" in human.stdout and "cost 0.0000 at 0.02 per million tokens" in human.stdout


def test_an_agent_schema_worktree_is_seeded_and_its_cache_handed_over(tmp_path: Path, embed_server):
    home = tmp_path / "home"
    home.mkdir()
    env = env_for(tmp_path, embed_server, backend="qdrant")
    repo = make_repo(tmp_path / "shop")
    for i in range(40, FILES):  # a smaller tree: qdrant-client's local mode is slow
        (repo / f"pkg{i % 10}" / f"mod{i:03d}.py").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "fewer shops")

    first = run_json("index", str(repo), "--schema", "roo", home=home, env=env)
    assert first["files_indexed"] == 40 and first["chunks_embedded"] > 40  # README.md: no block of 50 characters
    worktree = tmp_path / "shop-feature"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))
    change_one_function(worktree, 7)
    embed_server.reset_counts()

    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    second = run_json("index", str(worktree), "--schema", "roo", f"--write-cache={cache_dir}", home=home, env=env)
    assert second["files_indexed"] == 40 and second["chunks_embedded"] == 1  # Roo Code's one changed block
    # every other block's vector from the repository's collection (Roo Code's blocks repeat some
    # texts: the first run embedded each text once and reused it for its repeats)
    assert second["chunks_reused_from_other_collections"] == first["chunks_embedded"] + first["chunks_reused"] - 1
    assert second["embed_requests"] == 1
    # the agent's cache names every file of the worktree: Roo Code opening it embeds nothing
    cache = json.loads(Path(second["agent_cache"]).read_text())
    assert Path(second["agent_cache"]).parent == cache_dir
    assert set(cache) == {str(p) for p in worktree.rglob("*") if p.is_file() and ".git" not in p.parts}

    # the points are those a fresh embedding writes: same ids, same vectors
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(tmp_path / "data"))
    try:
        name = second["collection"]
        seeded = {str(p.id): p for p in client.scroll(name, limit=1000, with_vectors=True)[0]}
    finally:
        client.close()
    fresh = run_json("index", str(worktree), "--schema", "roo", "--rebuild", home=home, env=env)
    assert fresh["chunks_embedded"] == first["chunks_embedded"] and fresh["chunks_reused_from_other_collections"] == 0
    client = QdrantClient(path=str(tmp_path / "data"))
    try:
        rebuilt = {str(p.id): p for p in client.scroll(name, limit=1000, with_vectors=True)[0]}
    finally:
        client.close()
    assert set(seeded) == set(rebuilt)
    for pid, point in seeded.items():
        if point.payload.get("type") == "metadata":
            continue
        assert point.payload == rebuilt[pid].payload
        assert max(abs(a - b) for a, b in zip(point.vector, rebuilt[pid].vector, strict=True)) <= 1e-6
