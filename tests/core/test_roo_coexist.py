"""Roo Code and roocode-tui writing one collection: Roo Code's points (its scanner's and its file
watcher's, written here as Roo Code writes them, ids from its formulas) survive every run; a run
deletes only points it wrote. Roo Code's file selection and markdown header rules, checked
against values its own code gives (the regexes run under node)."""

from __future__ import annotations

import hashlib
import uuid
import warnings
from pathlib import Path

import pytest
from support.embed_server import hash_embed
from support.roo_collection import ROO_NAMESPACE, roo_name
from support.workspaces import APP_TS, GUIDE, read_back, run_roo_index

from roocode_tui.core.agents import roo

UTIL_PY = '''def parse_price(text):
    """Turn "12.50" into cents; raise ValueError on anything else."""
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int(cents or 0)
'''


def roo_scanner_point(workspace: Path, rel: str, start: int, end: int, text: str, chunk: str | None = None):
    """A point as Roo Code's scanner writes it (processors/scanner.ts, formulas written out here);
    the block is whole lines unless its text is given (a tree-sitter node's)."""
    from qdrant_client import models as m

    if chunk is None:
        chunk = "\n".join(text.split("\n")[start - 1 : end])
    segment = hashlib.sha256(f"{workspace}/{rel}-{start}-{end}-{len(chunk)}-{chunk[:100]}".encode()).hexdigest()
    return m.PointStruct(
        id=str(uuid.uuid5(ROO_NAMESPACE, segment)),
        vector=hash_embed(chunk.strip(), 64).tolist(),
        payload={
            "filePath": rel,
            "codeChunk": chunk,
            "startLine": start,
            "endLine": end,
            "segmentHash": segment,
            "pathSegments": {str(i): s for i, s in enumerate(rel.split("/"))},
        },
    )


def function_of(app_ts: str) -> str:
    """The block Roo Code's chunker makes of app.ts: its function node, without ``export``."""
    return app_ts[app_ts.index("function total") : app_ts.rindex("}") + 1]


def roo_watcher_point(workspace: Path, rel: str, start: int, end: int, text: str):
    """A point as Roo Code's file watcher writes it (processors/file-watcher.ts): its id is
    uuid5("<absolute path>:<start line>"), and it has no segmentHash."""
    from qdrant_client import models as m

    chunk = "\n".join(text.split("\n")[start - 1 : end])
    return m.PointStruct(
        id=str(uuid.uuid5(ROO_NAMESPACE, f"{workspace}/{rel}:{start}")),
        vector=hash_embed(chunk, 64).tolist(),
        payload={"filePath": rel, "codeChunk": chunk, "startLine": start, "endLine": end},
    )


def roo_writes(data: Path, workspace: Path, points: list) -> None:
    """Roo Code's collection and its points, made the way Roo Code makes them."""
    from qdrant_client import QdrantClient
    from qdrant_client import models as m

    name = roo_name(str(workspace))
    client = QdrantClient(path=str(data))
    try:
        if not client.collection_exists(name):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                client.create_collection(
                    name,
                    vectors_config=m.VectorParams(size=64, distance=m.Distance.COSINE, on_disk=True),
                    hnsw_config=m.HnswConfigDiff(m=64, ef_construct=512, on_disk=True),
                )
        client.upsert(name, points=points, wait=True)
    finally:
        client.close()


def stored(data: Path, workspace: Path) -> dict[str, dict]:
    client, points = read_back(data, roo_name(str(workspace)))
    client.close()
    points.pop(roo.MARKER_ID, None)
    return {pid: rec.payload for pid, rec in points.items()}


@pytest.mark.parametrize("schema", ["roo", "zoo"])  # Zoo Code writes Roo Code's points and ids
async def test_runs_never_delete_roo_codes_points_and_a_changed_file_loses_only_our_stale_ones(
    tmp_path: Path, qwen_server, schema: str
):
    workspace = tmp_path / "shop"
    (workspace / "src").mkdir(parents=True)
    (workspace / "docs").mkdir()
    (workspace / "src" / "app.ts").write_text(APP_TS)
    (workspace / "src" / "util.py").write_text(UTIL_PY)
    (workspace / "docs" / "guide.md").write_text(GUIDE)
    data = tmp_path / "qdrant"

    # Roo Code indexed first: the tree-sitter block of an older app.ts (the function, changed
    # since within its first 100 characters, which its id covers), the two markdown sections of
    # guide.md (the blocks roocode-tui makes too), and util.py as its watcher wrote it.
    old_app = APP_TS.replace("let sum = 0", "let sum = 0.0")
    theirs = [
        roo_scanner_point(workspace, "src/app.ts", 5, 11, old_app, function_of(old_app)),
        roo_scanner_point(workspace, "docs/guide.md", 1, 4, GUIDE),
        roo_scanner_point(workspace, "docs/guide.md", 5, 8, GUIDE),
        roo_watcher_point(workspace, "src/util.py", 1, 4, UTIL_PY),
    ]
    roo_writes(data, workspace, theirs)
    roo_payloads = {str(p.id): p.payload for p in theirs}

    first = await run_roo_index(data, qwen_server, workspace, schema)
    assert first.phase == "done" and first.points_deleted == 0
    assert first.files_unchanged == 1  # guide.md: Roo Code's points are exactly its blocks
    after_first = stored(data, workspace)
    for pid, payload in roo_payloads.items():
        assert after_first[pid] == payload  # there, and still Roo Code's (not rewritten)
    ours = {pid: p for pid, p in after_first.items() if p.get("indexedBy") == "roocode-tui"}
    assert {p["filePath"] for p in ours.values()} == {"src/app.ts", "src/util.py"}
    assert set(after_first) == set(roo_payloads) | set(ours)

    # Nothing changed: nothing written, nothing deleted.
    qwen_server.reset_counts()
    again = await run_roo_index(data, qwen_server, workspace, schema)
    assert (again.files_unchanged, again.points_written, again.points_deleted) == (3, 0, 0)
    assert stored(data, workspace) == after_first

    # app.ts changes (its function moves down a line), util.py goes, guide.md gets a new
    # second section.
    (workspace / "src" / "app.ts").write_text("// Checkout.\n" + APP_TS)
    (workspace / "src" / "util.py").unlink()
    (workspace / "docs" / "guide.md").write_text(GUIDE.replace("## Install", "## Installing"))
    third = await run_roo_index(data, qwen_server, workspace, schema)
    now = stored(data, workspace)
    for pid, payload in roo_payloads.items():
        assert now[pid] == payload  # Roo Code's points, stale ones included, are Roo Code's to delete
    gone = set(ours) - set(now)
    assert gone == set(ours)  # our old app.ts block and our util.py block: ours, stale, deleted
    assert third.points_deleted == len(ours) and third.files_deleted == 1
    new_ours = {pid: p for pid, p in now.items() if p.get("indexedBy") == "roocode-tui"}
    expected_guide = [
        (b.start_line, b.end_line) for b in roo.split(GUIDE.replace("## Install", "## Installing"), "/ws/guide.md")
    ]
    assert expected_guide == [(1, 4), (5, 8)]
    # guide.md's first section did not change: it is still Roo Code's point; only the new one is ours
    assert sorted((p["filePath"], p["startLine"]) for p in new_ours.values() if p["filePath"] == "docs/guide.md") == [
        ("docs/guide.md", 5)
    ]
    assert {p["filePath"] for p in new_ours.values()} == {"src/app.ts", "docs/guide.md"}
    assert set(now) == set(roo_payloads) | set(new_ours)


async def test_a_point_roo_code_rewrites_becomes_roo_codes(tmp_path: Path, qwen_server):
    """Roo Code re-indexing a file writes the same ids with its own payload: from then on the
    point is Roo Code's, and a later change of the file does not delete it here."""
    workspace = tmp_path / "shop"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "app.ts").write_text(APP_TS)
    data = tmp_path / "qdrant"
    await run_roo_index(data, qwen_server, workspace)
    ((pid, payload),) = stored(data, workspace).items()
    assert payload["indexedBy"] == "roocode-tui" and (payload["startLine"], payload["endLine"]) == (5, 11)
    point = roo_scanner_point(workspace, "src/app.ts", 5, 11, APP_TS, function_of(APP_TS))
    roo_writes(data, workspace, [point])  # same id
    assert "indexedBy" not in stored(data, workspace)[pid]
    (workspace / "src" / "app.ts").write_text(APP_TS.replace("0.95", "0.90"))
    await run_roo_index(data, qwen_server, workspace)
    assert pid in stored(data, workspace)


def write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text or f"// {rel}: a file long enough to make one block of fifty characters or more\n")


@pytest.mark.parametrize("in_git", [False, True], ids=["no repository", "in a repository"])
async def test_the_files_roo_code_would_index_and_no_others(tmp_path: Path, qwen_server, in_git: bool):
    repo = tmp_path / "repo"
    ws = repo / "ws"  # the workspace: a folder of the repository, as a monorepo's package is
    indexed = [
        "src/app.ts",
        "build/gen.ts",  # Roo Code indexes build/, target/, coverage/, site-packages/ ...
        "target/lib.rs",
        "coverage/report.js",
        "lib/python3.12/site-packages/requests/api.py",
        "myenv/lib.py",  # a virtualenv by another name is just files to Roo Code
        "static/app.min.js",  # ... and minified files and lock files
        "package-lock.json",
        "src/env.ts",  # only whole path parts are matched: env.ts is not env/
        "docs/page.html",
    ]
    left_out = [
        "vendor/github.com/x/y.go",
        "tmp/scratch.py",
        "temp/t.py",
        "env/e.py",
        "deps/d.ex",
        "bundle/b.js",
        "Pods/p.swift",
        "out/o.js",
        "pkg/p.go",
        "a/target/dependency/D.java",
        ".github/workflow.json",
        "src/.hidden.ts",
        ".eslintrc.json",
        "docs/page.htm",  # no parser: no block at all
        "views/index.erb",
        "views/index.ejs",
        "src/Main.elm",
        "notes.txt",  # not in its extension list
        "ignored/by_git.ts",  # the workspace's .gitignore: the scanner reads it, repository or not
        "secret/keys.ts",  # .rooignore (read at the workspace root)
        "scratch/by_ignore.ts",  # ripgrep's .ignore, above the workspace: always
    ]
    # ripgrep reads .gitignore files below the workspace and above it only in a repository
    (indexed if not in_git else left_out).extend(["src/generated/g.ts", "logs/app.ts"])
    for rel in indexed + left_out:
        write(ws, rel)
    (ws / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    write(ws, "big.ts", "// " + "x" * (1024 * 1024) + "\n")  # over 1 MiB
    (ws / ".gitignore").write_text("ignored/\n")
    (ws / "src" / ".gitignore").write_text("generated/\n")
    (ws / ".rooignore").write_text("secret/\n")
    (repo / ".gitignore").write_text("logs/\n")  # the repository's, above the workspace
    (repo / ".ignore").write_text("scratch/\n")
    if in_git:
        (repo / ".git").mkdir()
    data = tmp_path / "qdrant"
    progress = await run_roo_index(data, qwen_server, ws)
    assert progress.phase == "done"
    assert {p["filePath"] for p in stored(data, ws).values()} == set(indexed)
    assert sum(n for reason, n in progress.skip_reasons.items() if reason.startswith("larger than")) == 1, dict(
        progress.skip_reasons
    )


# validSetextTextRegex and the underline regexes of tree-sitter/markdownParser.ts, run under
# node 20 on these lines (true: the line can be a setext header's text).
NODE_SETEXT_TEXT = {
    "Title": True, "": False, " ": False, "  ": True, "a": False, "ab": True, "```": False,
    "- item": True, "* item": True, "[link](x)": False, "# not": False, "<div>": False,
    "!img": False, "\tTabbed": True, "Some text\r": True, "\U0001f600": True, "a\U0001f600": True,
    "x `code`": False, "Plain words here": True,
}  # fmt: skip
NODE_UNDERLINE = {"---": True, "--": False, "===": True, "==": False, "---  ": True, "----\r": True, "- - -": False}


def test_setext_headers_follow_roo_codes_regexes():
    for line, expected in NODE_SETEXT_TEXT.items():
        assert roo._setext_text(line) is expected, repr(line)
    for line, expected in NODE_UNDERLINE.items():
        assert bool(roo._SETEXT_H1.match(line) or roo._SETEXT_H2.match(line)) is expected, repr(line)
    body = "Body text that is long enough to make a block of fifty characters or more.\n"
    doc = (
        "Title\n=====\n" + body + "\n"  # rows 0-3: a header
        "\n---\n"
        + body  # a blank line above: a thematic break, not a header
        + "```\n---\n```\n"
        + body  # a fence above: not a header
        + "Short\n--\n"
        + body  # two dashes: not a header
        + "Real section\n---\n"
        + body  # a header at row 14
    )
    assert roo._markdown_headers(doc) == [(0, 13), (14, len(doc.split("\n")) - 1)]


@pytest.mark.parametrize(
    "rel", ["src/.hidden/a.ts", "a/node_modules/b.js", "x/__pycache__/y.py", "build/dependencies/z.py"]
)
def test_ignored_paths_match_the_helper_roo_code_uses(rel: str):
    assert roo.ignored_path(rel)
