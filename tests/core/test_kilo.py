"""Kilo Code's index (core/agents/kilo.py, kilo_config.py): its points for real files, checked against
what Kilo Code's own indexer wrote (tests/fixtures/kilo/expected.json, made by running
packages/kilo-indexing under node: see SOURCES.md there), its metadata point, file selection,
configuration and cache file."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

import pytest
from support.paths import REPO

from roocode_tui.core.agents import kilo, kilo_config, roo
from roocode_tui.core.agents.kilo import KILO
from roocode_tui.core.errors import UsageError

ROOT = REPO
FIXTURES = ROOT / "tests/fixtures/kilo"
FILES = FIXTURES / "files"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
WORKSPACE = EXPECTED["workspace"]  # /tmp/kilo-fixture-ws: hashed as a string, never read
KEYS = ["filePath", "fileHash", "codeChunk", "startLine", "endLine", "segmentHash", "pathSegments"]
OLD_PYTHON = importlib.util.find_spec("tree_sitter_python") is not None


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def points_of(rel: str) -> dict[str, tuple[roo.Block, dict]]:
    """Our points for a fixture file, as a run over Kilo's workspace path writes them."""
    text = roo.decode((FILES / rel).read_bytes())
    digest = kilo.file_hash(text)
    blocks = [b for b in kilo.split(text, f"{WORKSPACE}/{rel}") if roo.js_trim(b.content)]
    return {b.id: (b, kilo.payload(rel, digest, b)) for b in blocks}


@pytest.mark.parametrize("rel", sorted(EXPECTED["blocks"]))
def test_points_are_kilo_codes(rel: str):
    """Same ids, every payload key and value in Kilo's order, the text Kilo embedded: every point, no more."""
    if rel.endswith(".py") and not OLD_PYTHON:
        pytest.skip("tree-sitter-python 0.21.0 is not installable on this machine")
    ours = points_of(rel)
    theirs = {p["id"]: p for p in EXPECTED["points"] if p["payload"]["filePath"] == rel}
    assert theirs and set(ours) == set(theirs)
    for pid, point in theirs.items():
        block, payload = ours[pid]
        assert payload.pop("indexedBy") == "roocode-tui"  # ours; Kilo reads only its keys
        assert list(payload) == KEYS
        assert payload == {**point["payload"], "codeChunk": point["codeChunk"]}
        assert sha(kilo.document_text(block, "")) == point["embedded_text_sha256"]  # the trimmed block
    text = roo.decode((FILES / rel).read_bytes())
    assert kilo.file_hash(text) == EXPECTED["cache"][rel]  # the cache file's value, the payload's fileHash
    parsed = {(b.start_line, b.end_line, b.segment_hash, b.content) for b in kilo.split(text, f"{WORKSPACE}/{rel}")}
    assert parsed == {(b["start_line"], b["end_line"], b["segmentHash"], b["content"]) for b in EXPECTED["blocks"][rel]}


def test_names_of_the_golden_run():
    assert roo.collection_name(WORKSPACE) == EXPECTED["collection"]
    assert f"roo-index-cache-{sha(WORKSPACE)}.json" == EXPECTED["cache_file_name"]
    assert EXPECTED["failed_parsers"] == ["ejs", "erb", "htm"]


def test_htm_ejs_erb_are_cut_by_lines_where_roo_code_makes_no_block():
    for rel in ("web/docs.htm", "web/views/login.ejs", "cases/layout.erb"):
        text = roo.decode((FILES / rel).read_bytes())
        assert roo.split(text, f"{WORKSPACE}/{rel}") == []
        assert kilo.split(text, f"{WORKSPACE}/{rel}") == roo.chunk_lines(
            text.split("\n"), f"{WORKSPACE}/{rel}", set(), 1
        )


def test_java_return_types_are_captured():
    """tree-sitter/queries/java.ts: a return type of 50 characters or more is a block of its own."""
    rel = "cases/LongReturnType.java"
    text = (FILES / rel).read_text()
    kilos = {(b.start_line, b.end_line) for b in kilo.split(text, f"{WORKSPACE}/{rel}")}
    roos = {(b.start_line, b.end_line) for b in roo.split(text, f"{WORKSPACE}/{rel}")}
    assert kilos - roos == {(11, 11)} and roos <= kilos
    assert KILO.dialect.queries["JAVA"].count("kilocode_change") == 1
    assert {k: v for k, v in KILO.dialect.queries.items() if k != "JAVA"} == {
        k: v for k, v in roo.ROO.dialect.queries.items() if k != "JAVA"
    }


def test_profile():
    assert len(KILO.extensions) == 60 and len(KILO.line_chunked) == 23
    assert KILO.extensions - roo.ROO.extensions == {
        *(f".{e}" for e in "bash bazel build bzl dart gradle m mm ninja ql r res resi rst sh sql yaml yml zsh".split())
    }
    assert KILO.line_chunked - roo.ROO.line_chunked == KILO.extensions - roo.ROO.extensions | {".elm"}
    assert KILO.no_parser == frozenset() and ".txt" not in KILO.extensions
    assert KILO.extension_id == "kilocode.kilo-code" and KILO.name == "kilo-code" and KILO.key == "kilo"


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        ("src/app.ts", None),
        ("env/e.py", None),  # Roo Code leaves these out, Kilo Code does not
        ("venv/lib.py", None),
        ("deps/d.ex", None),
        ("pkg/p.go", None),
        ("Pods/p.swift", None),
        ("bundle/b.js", None),
        ("Build/x.py", None),  # FileIgnore is case-sensitive
        ("build/gen.ts", "hidden, or in a directory Kilo Code never indexes"),
        ("a/target/lib.rs", "hidden, or in a directory Kilo Code never indexes"),
        ("bin/tool.sh", "hidden, or in a directory Kilo Code never indexes"),
        ("obj/x.cs", "hidden, or in a directory Kilo Code never indexes"),
        ("desktop/app.js", "hidden, or in a directory Kilo Code never indexes"),
        ("x/logs/app.py", "hidden, or in a directory Kilo Code never indexes"),
        ("coverage/r.js", "hidden, or in a directory Kilo Code never indexes"),
        ("tmp/t.py", "hidden, or in a directory Kilo Code never indexes"),
        ("mypy_cache/m.py", "hidden, or in a directory Kilo Code never indexes"),
        (".github/ci.yml", "hidden, or in a directory Kilo Code never indexes"),
        ("src/.hidden.ts", "hidden, or in a directory Kilo Code never indexes"),
        ("notes.txt", "not a file type Kilo Code indexes"),
        ("page.htm", None),
        ("run.sh", None),
        ("logs.py", None),  # only a directory named logs
    ],
)
def test_file_selection(rel: str, reason: str | None):
    rules = kilo.KiloRules()
    assert rules.file_reason(rel.rsplit("/", 1)[-1], rel) == reason
    assert rules.ignore_files == () and rules.root_ignore_files == (".gitignore", ".kilocodeignore")
    assert rules.specs_above(Path("/")) == []


def test_symlinked_directories_are_not_entered(tmp_path: Path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    rules = kilo.KiloRules(tmp_path)
    assert rules.dir_reason("real", "real", tmp_path / "real") is None
    assert "symlinked" in (rules.dir_reason("link", "link", tmp_path / "link") or "")


def test_the_workspace_is_its_realpath(tmp_path: Path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    resolved = os.path.realpath(real)
    assert kilo.workspace_path(link) == resolved
    assert kilo.collection_name(link) == "ws-" + sha(resolved)[:16] == roo.collection_name(resolved)
    assert kilo.cache_name(str(link)) == f"roo-index-cache-{sha(resolved)}.json"


def test_the_marker_is_kilo_codes():
    """qdrant-client.ts:721-777: keys in this order, index_schema the number 2."""
    expected = EXPECTED["metadata_point"]["payload"]
    done = kilo.marker_payload("openai-compatible", "kilo-ref-fake-embedder", 16, True, 1_700_000_000_000)
    assert done == {**expected, "completed_at": 1_700_000_000_000}
    assert list(done) == [*expected, "completed_at"]
    started = kilo.marker_payload("openai-compatible", "kilo-ref-fake-embedder", 16, False, 5)
    assert list(started)[-1] == "started_at" and started["indexing_complete"] is False
    assert kilo.MARKER_ID == EXPECTED["metadata_point"]["id"] != roo.MARKER_ID


def test_nomic_texts_get_kilos_prefix():
    """embedders/ollama.ts:51-67: documents and queries alike, not twice, not past 8,191 tokens."""
    prefix = kilo.prefix_of("ollama", "nomic-embed-text")
    assert prefix == "search_query: " and kilo.prefix_of("openai", "text-embedding-3-small") == ""
    assert kilo.embed_text("def f(): pass", prefix) == "search_query: def f(): pass"
    assert kilo.embed_text("search_query: x", prefix) == "search_query: x"
    long = "x" * (4 * 8191 - 5)
    assert kilo.embed_text(long, prefix) == long
    block = roo.Block(1, 2, "\n  body of the block  \n", "h")
    assert kilo.document_text(block, prefix) == "search_query: body of the block"


# -- Kilo's configuration --------------------------------------------------------------------
def write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_profile_comes_from_kilo_jsonc_with_comments(tmp_path: Path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    write_config(
        tmp_path / "config/kilo/kilo.jsonc",
        '{\n  // indexing with a local model\n  "indexing": {\n    "enabled": true,\n'
        '    "provider": "ollama", /* its default model */\n'
        '    "vectorStore": "qdrant",\n    "qdrant": {"url": "http://localhost:6333"},\n  },\n}\n',
    )
    profile = kilo_config.resolve(str(tmp_path / "ws"), env=env)
    assert (profile.provider, profile.model_id, profile.dimension) == ("ollama", "nomic-embed-text", 768)
    assert profile.from_kilo and profile.source == str(tmp_path / "config/kilo/kilo.jsonc")
    assert profile.vector_store == "qdrant" and profile.enabled
    # the workspace's own kilo.jsonc overrides the user's
    write_config(tmp_path / "ws/kilo.jsonc", '{"indexing": {"model": "mxbai-embed-large"}}')
    profile = kilo_config.resolve(str(tmp_path / "ws"), env=env)
    assert (profile.provider, profile.model_id, profile.dimension) == ("ollama", "mxbai-embed-large", 1024)


def test_kilo_defaults_and_an_explicit_dimension(tmp_path: Path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    write_config(tmp_path / "kilo/kilo.json", '{"indexing": {"enabled": true}}')
    profile = kilo_config.resolve(str(tmp_path / "ws"), env=env)
    assert (profile.provider, profile.model_id, profile.dimension) == ("openai", "text-embedding-3-small", 1536)
    assert profile.vector_store == "lancedb"  # Kilo's default store
    write_config(
        tmp_path / "kilo/kilo.jsonc",
        '{"indexing": {"provider": "openai-compatible", "model": "Qwen/Qwen3-Embedding-0.6B", "dimension": 1024}}',
    )
    profile = kilo_config.resolve(str(tmp_path / "ws"), env=env)
    assert (profile.provider, profile.model_id, profile.dimension) == (
        "openai-compatible",
        "Qwen/Qwen3-Embedding-0.6B",
        1024,
    )


def test_without_kilo_config_the_profile_is_derived(tmp_path: Path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    settings = type("S", (), {"base_url": "http://127.0.0.1:8000/v1"})()
    profile = kilo_config.resolve(str(tmp_path / "ws"), settings, "Qwen/Qwen3-Embedding-0.6B", env=env)
    assert (profile.provider, profile.model_id, profile.dimension, profile.from_kilo) == (
        "openai-compatible",
        "Qwen/Qwen3-Embedding-0.6B",
        None,
        False,
    )
    settings.base_url = "https://api.openai.com/v1"
    assert kilo_config.resolve(str(tmp_path / "ws"), settings, "text-embedding-3-small", env=env).provider == "openai"


def test_configs_kilo_cannot_use_are_refused(tmp_path: Path):
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    write_config(tmp_path / "kilo/kilo.jsonc", '{"indexing": {"provider": "kilo"}}')
    with pytest.raises(UsageError, match="looks up online"):
        kilo_config.resolve(str(tmp_path / "ws"), env=env)
    write_config(tmp_path / "kilo/kilo.jsonc", '{"indexing": {"provider": "kilo", "model": "m", "dimension": 1536}}')
    assert kilo_config.resolve(str(tmp_path / "ws"), env=env).dimension == 1536
    write_config(tmp_path / "kilo/kilo.jsonc", '{"indexing": {"provider": "nope"}}')
    with pytest.raises(UsageError, match="not one Kilo knows"):
        kilo_config.resolve(str(tmp_path / "ws"), env=env)
    write_config(tmp_path / "kilo/kilo.jsonc", '{"indexing": ')
    with pytest.raises(UsageError, match="not valid JSON"):
        kilo_config.resolve(str(tmp_path / "ws"), env=env)


def test_jsonc_strings_keep_what_looks_like_comments():
    text = '{"a": "http://x//y /* no */", /* c */ "b": [1, 2,], // end\n}'
    assert json.loads(kilo_config.strip_jsonc(text)) == {"a": "http://x//y /* no */", "b": [1, 2]}


# -- the cache file --------------------------------------------------------------------------
def test_the_cache_file_is_in_kilos_state_directory(tmp_path: Path):
    assert kilo.state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "kilo/indexing"
    assert kilo.state_dir({}, home=tmp_path) == tmp_path / ".local/state/kilo/indexing"
    path = tmp_path / "kilo/indexing/x.json"
    kilo.write_cache(path, {"/ws/b.py": "2", "/ws/a.py": "1"})
    assert path.read_text() == '{"/ws/b.py":"2","/ws/a.py":"1"}'  # JSON.stringify: compact, in order
    assert [p.name for p in path.parent.iterdir()] == ["x.json"]


def test_a_running_kilo_holds_the_cache(tmp_path: Path):
    proc = tmp_path / "proc"
    for pid, argv in (("4242", b"/home/u/.vscode/extensions/kilocode.kilo-code-7.3.63/bin/kilo\0serve\0"),
                      ("5151", b"/usr/bin/python3\0x.py\0")):  # fmt: skip
        (proc / pid / "fd").mkdir(parents=True)
        (proc / pid / "cmdline").write_bytes(argv)
    path = tmp_path / "cache.json"
    assert kilo.holders(path, proc) == ["Kilo Code's CLI (pid 4242)"]
