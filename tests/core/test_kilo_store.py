"""``index --schema kilo`` into a Qdrant store (qdrant-client's local mode, a real embedding server on
loopback): the points and metadata point Kilo Code writes, checked with Kilo Code's own start-up
logic written out below; Kilo's points (its ids and payloads, no ``indexedBy``) survive every run;
a collection of the other layout is refused both ways; a Kilo collection is described as Kilo's and
searched as Kilo searches it; ``--schema auto`` picks Kilo by its metadata point."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
from support.embed_server import EmbedServer, hash_embed
from support.roo_collection import without_content_keys
from support.workspaces import APP_TS, GUIDE, UTIL_PY, kilo_config, read_back, run_index, shop

from roocode_tui.core.agents import detect, kilo, kilo_qdrant, roo, roo_qdrant, schemas
from roocode_tui.core.collections import catalog
from roocode_tui.core.config import EmbedderSettings, Settings, StoreSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.errors import ModelMismatchError, UsageError
from roocode_tui.core.stores.qdrant import QdrantStore

DEPLOY_SH = (
    "#!/bin/sh\n# Build the site, then copy it to the web server over ssh.\nmake site && rsync -a out/ web:/srv/\n"
)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own: no extension, no agent cache, no Kilo config unless a test writes one."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    return home


def stored(data: Path, name: str) -> dict[str, dict]:
    client, points = read_back(data, name)
    client.close()
    return {pid: rec.payload for pid, rec in points.items()}


def kilo_points(workspace: Path, rel: str, text: str) -> list:
    """The points Kilo Code writes for a file (scanner.ts:599-622, the watcher alike), made here
    from its formulas: ids uuid5(segmentHash), its payload, no indexedBy."""
    from qdrant_client import models as m

    digest = kilo.file_hash(text)
    out = []
    for b in kilo.split(text, f"{os.path.realpath(workspace)}/{rel}"):
        payload = kilo.payload(rel, digest, b)
        del payload["indexedBy"]
        out.append(m.PointStruct(id=b.id, vector=hash_embed(roo.js_trim(b.content), 64).tolist(), payload=payload))
    return out


def kilo_writes(data: Path, name: str, points: list, marker: dict | None = None) -> None:
    """Kilo Code's collection (qdrant-client.ts createCollection) and its points."""
    from qdrant_client import QdrantClient
    from qdrant_client import models as m

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
        if marker is not None:
            points = [*points, m.PointStruct(id=kilo.MARKER_ID, vector=[0.0] * 64, payload=marker)]
        client.upsert(name, points=points, wait=True)
    finally:
        client.close()


def _number(value: Any) -> float | None:
    """JavaScript's Number(value) for what a payload can hold (NaN as None)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return None
    return None


def kilo_starts(data: Path, name: str, provider: str, model: str, dimension: int) -> str:
    """What Kilo Code does with the collection when it starts an index run, written out from its
    source (packages/kilo-indexing/src/indexing/vector-store/qdrant-client.ts at 8b7b69b5):
    initialize() (:271-335) then the orchestrator's hasIndexedData() (:680-715; orchestrator.ts:218-226).
    'created' (no collection), 'recreated' (deleted and made again), 'cleared' (every point deleted),
    'kept'."""
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(data))
    try:
        if not client.collection_exists(name):  # :281-286 getCollectionInfo() null -> createCollection()
            return "created"
        info = client.get_collection(name)
        vectors = info.config.params.vectors  # :288-299 a number, or .size; named vectors: 0
        size = vectors.size if vectors is not None and not isinstance(vectors, dict) else 0
        if size != dimension:  # :327-329 _recreateCollectionWithNewDimension()
            return "recreated"
        if not info.points_count:  # :301-302 no points: kept (and hasIndexedData() false: a full scan)
            return "kept"
        found = client.retrieve(name, ids=[kilo.MARKER_ID], with_payload=True)  # :46-55 getMetadataPayload()
        payload = found[0].payload if found else None
        # :57-71 getStoredProfile(): provider and model strings, Number(dimension) finite and > 0
        stored = None
        if (
            payload
            and isinstance(payload.get("embedding_provider"), str)
            and isinstance(payload.get("embedding_model_id"), str)
        ):
            dim = _number(payload.get("embedding_dimension"))
            if dim is not None and dim > 0:
                stored = (payload["embedding_provider"], payload["embedding_model_id"], dim)
        schema = payload.get("index_schema") if payload else None
        # :303-306 payload.index_schema === 2 && isProfileMatch() (:73-79)
        compatible = type(schema) in (int, float) and schema == 2 and stored == (provider, model, float(dimension))
        if not compatible:  # :226-243 recreateCollectionForCompatibility()
            return "recreated"
        # hasIndexedData(): the marker decides (indexing_complete === true); false -> clearCollection()
        return "kept" if payload.get("indexing_complete") is True else "cleared"
    finally:
        client.close()


# -- a run ------------------------------------------------------------------------------------
async def test_index_schema_kilo_writes_what_kilo_code_would(tmp_path: Path, env: Path, embed_server: EmbedServer):
    config = kilo_config(env, embed_server)
    ws = shop(tmp_path / "shop")
    files = {"deploy.sh": DEPLOY_SH, "docs/page.htm": "<p>" + "A page of the docs, cut by lines. " * 3 + "</p>\n"}
    files |= {"build/gen.ts": APP_TS, ".github/ci.ts": APP_TS, "env/e.ts": APP_TS, "notes.txt": GUIDE}
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    (ws / ".kilocodeignore").write_text("src/util.py\n")
    link = tmp_path / "shop-link"
    link.symlink_to(ws)  # the run is given a symlink: Kilo Code hashes the realpath
    data = tmp_path / "qdrant"
    progress = await run_index(data, embed_server, link, agent_cache="")
    assert progress.phase == "done" and progress.files_indexed == 5, progress.report()

    real = os.path.realpath(ws)
    name = kilo.collection_name(real)
    assert progress.collection == name == "ws-" + hashlib.sha256(real.encode()).hexdigest()[:16]
    expected = {}
    for rel in ("src/app.ts", "docs/guide.md", "deploy.sh", "docs/page.htm", "env/e.ts"):
        text = (ws / rel).read_text()
        for b in kilo.split(text, f"{real}/{rel}"):
            expected[b.id] = kilo.payload(rel, kilo.file_hash(text), b)
    points = stored(data, name)
    marker = points.pop(kilo.MARKER_ID)
    points = without_content_keys(points, embed_server.model, embed_server.dim)
    assert points == expected  # Kilo's payload, key for key, and our owner key (and content key)
    assert all(
        list(p)[:7] == ["filePath", "fileHash", "codeChunk", "startLine", "endLine", "segmentHash", "pathSegments"]
        for p in points.values()
    )
    assert {k: v for k, v in marker.items() if k != "completed_at"} == {
        "type": "metadata",
        "index_schema": 2,
        "indexing_complete": True,
        "embedding_provider": "openai-compatible",
        "embedding_model_id": embed_server.model,
        "embedding_dimension": 64,
    }
    assert list(marker)[-1] == "completed_at" and isinstance(marker["completed_at"], int)
    # documents are embedded as Kilo embeds them: the trimmed block, no prefix; each text once
    # (env/e.ts is src/app.ts again: one embedding for both)
    embedded = [t for t in embed_server.inputs if t != "dimension probe"]
    assert sorted(embedded) == sorted({p["codeChunk"].strip() for p in expected.values()})
    # Kilo Code, configured as in its kilo.jsonc, keeps the collection as it is
    assert kilo_starts(data, name, "openai-compatible", embed_server.model, 64) == "kept"
    # its cache file, where Kilo keeps it: every file read, by absolute path under the realpath
    cache = env / ".local/state/kilo/indexing" / f"roo-index-cache-{hashlib.sha256(real.encode()).hexdigest()}.json"
    assert progress.agent_cache == str(cache)
    hashes = json.loads(cache.read_text())
    assert hashes == {
        f"{real}/{rel}": kilo.file_hash((ws / rel).read_text())
        for rel in ("src/app.ts", "docs/guide.md", "deploy.sh", "docs/page.htm", "env/e.ts")
    }
    assert str(config) in progress.message and "Kilo Code's metadata point" in progress.message


async def test_a_derived_profile_is_said_and_kilo_keeps_it_only_when_so_configured(
    tmp_path: Path, env: Path, embed_server: EmbedServer
):
    ws = shop(tmp_path / "shop")
    data = tmp_path / "qdrant"
    progress = await run_index(data, embed_server, ws)
    assert progress.phase == "done"
    assert "derived from roocode-tui's embedder" in progress.message
    assert f'provider "openai-compatible", model "{embed_server.model}", dimension 64' in progress.message
    name = kilo.collection_name(ws)
    assert stored(data, name)[kilo.MARKER_ID]["embedding_model_id"] == embed_server.model
    assert kilo_starts(data, name, "openai-compatible", embed_server.model, 64) == "kept"
    # Kilo Code's defaults (openai, text-embedding-3-small, 1536): recreated, as Kilo would
    assert kilo_starts(data, name, "openai", "text-embedding-3-small", 1536) == "recreated"


async def test_a_kilo_config_of_another_dimension_is_refused_before_anything_is_written(
    tmp_path: Path, env: Path, embed_server: EmbedServer
):
    kilo_config(env, embed_server, dimension=1536)
    ws = shop(tmp_path / "shop")
    with pytest.raises(ModelMismatchError, match="Kilo Code is configured with openai-compatible"):
        await run_index(tmp_path / "qdrant", embed_server, ws)
    assert (
        kilo_starts(tmp_path / "qdrant", kilo.collection_name(ws), "openai-compatible", embed_server.model, 1536)
        == "created"
    )


async def test_a_run_that_stops_after_writing_leaves_the_marker_incomplete_and_says_so(
    tmp_path: Path, env: Path, embed_server: EmbedServer, monkeypatch: pytest.MonkeyPatch
):
    kilo_config(env, embed_server)
    ws = shop(tmp_path / "shop")
    data = tmp_path / "qdrant"
    await run_index(data, embed_server, ws)
    name = kilo.collection_name(ws)
    assert kilo_starts(data, name, "openai-compatible", embed_server.model, 64) == "kept"
    notes = []

    async def fail(self: Any, indexer: Any, meta: Any = None) -> None:
        notes.append(self.interrupted_note())
        raise UsageError("stopped")

    monkeypatch.setattr(kilo_qdrant.KiloSchema, "finish", fail)
    (ws / "src/app.ts").write_text("// Checkout.\n" + APP_TS)
    progress = []
    with pytest.raises(UsageError):
        await run_index(data, embed_server, ws, on_progress=progress.append)
    assert "Kilo Code deletes every point" in notes[0]
    # the run's own message says so too (what the command prints when a run stops)
    assert progress[-1].message == f"stopped; {notes[0]}"
    assert stored(data, name)[kilo.MARKER_ID]["indexing_complete"] is False
    assert kilo_starts(data, name, "openai-compatible", embed_server.model, 64) == "cleared"


# -- Kilo's points ----------------------------------------------------------------------------
async def test_runs_never_delete_kilo_codes_points(tmp_path: Path, env: Path, embed_server: EmbedServer):
    kilo_config(env, embed_server)
    ws = shop(tmp_path / "shop")
    data = tmp_path / "qdrant"
    name = kilo.collection_name(ws)
    # Kilo indexed first: an older app.ts and util.py, and guide.md as it is now; its marker complete
    old_app = APP_TS.replace("let sum = 0", "let sum = 0.0")
    old_util = UTIL_PY.replace("cents or 0", "cents or '0'")
    theirs = kilo_points(ws, "src/app.ts", old_app) + kilo_points(ws, "src/util.py", old_util)
    theirs += kilo_points(ws, "docs/guide.md", GUIDE)
    marker = kilo.marker_payload("openai-compatible", embed_server.model, 64, True, 1)
    kilo_writes(data, name, theirs, marker)
    kilo_payloads = {str(p.id): p.payload for p in theirs}

    first = await run_index(data, embed_server, ws)
    assert first.phase == "done" and first.points_deleted == 0 and first.files_unchanged == 1
    after = stored(data, name)
    for pid, payload in kilo_payloads.items():
        assert after[pid] == payload  # there, and still Kilo's
    ours = {pid: p for pid, p in after.items() if p.get("indexedBy") == "roocode-tui"}
    assert {p["filePath"] for p in ours.values()} == {"src/app.ts", "src/util.py"}
    assert after[kilo.MARKER_ID]["indexing_complete"] is True
    assert kilo_starts(data, name, "openai-compatible", embed_server.model, 64) == "kept"

    # nothing changed: nothing written (the marker not even marked incomplete), nothing deleted
    embed_server.reset_counts()
    again = await run_index(data, embed_server, ws)
    assert (again.files_unchanged, again.points_written, again.points_deleted) == (3, 0, 0)
    assert {k: v for k, v in stored(data, name).items() if k != kilo.MARKER_ID} == {
        k: v for k, v in after.items() if k != kilo.MARKER_ID
    }

    # app.ts changes, util.py goes: our stale points go, Kilo's stay (Kilo deletes them by path
    # when it sees the files change)
    (ws / "src/app.ts").write_text("// Checkout.\n" + APP_TS)
    (ws / "src/util.py").unlink()
    third = await run_index(data, embed_server, ws)
    now = stored(data, name)
    for pid, payload in kilo_payloads.items():
        assert now[pid] == payload
    assert not set(ours) & set(now) and third.points_deleted == len(ours) and third.files_deleted == 1
    assert kilo_starts(data, name, "openai-compatible", embed_server.model, 64) == "kept"


async def test_our_points_of_an_older_text_are_written_again(tmp_path: Path, env: Path, embed_server: EmbedServer):
    """Same lines, same length, same first 100 characters: the same ids; Kilo's payload holds the
    file's hash, so the run writes the points again with the text of now."""
    kilo_config(env, embed_server)
    ws = tmp_path / "ws"
    ws.mkdir()
    text = (
        "# Notes\n\n"
        + "The first hundred characters of this section stay the same while a later word changes: alpha.\n"
    )
    (ws / "notes.md").write_text(text)
    data = tmp_path / "qdrant"
    await run_index(data, embed_server, ws)
    (ws / "notes.md").write_text(text.replace("alpha", "gamma"))
    second = await run_index(data, embed_server, ws)
    assert second.files_indexed == 1 and second.points_written == 1
    ((_pid, payload),) = [(k, v) for k, v in stored(data, kilo.collection_name(ws)).items() if k != kilo.MARKER_ID]
    assert "gamma" in payload["codeChunk"] and payload["fileHash"] == kilo.file_hash(text.replace("alpha", "gamma"))


# -- the other layout under the same name -----------------------------------------------------
async def test_a_collection_of_the_other_layout_is_refused_both_ways(
    tmp_path: Path, env: Path, embed_server: EmbedServer
):
    kilo_config(env, embed_server)
    roos = shop(tmp_path / "roos")
    data = tmp_path / "qdrant"
    await run_index(data, embed_server, roos, schema="roo")
    before = stored(data, roo.collection_name(roos))
    with pytest.raises(UsageError) as refused:
        await run_index(data, embed_server, roos, schema="kilo")
    line = str(refused.value)
    assert "\n" not in line and "Roo Code's or Zoo Code's index" in line and "--schema kilo does not write" in line
    assert "--schema roo|zoo" in line
    assert stored(data, roo.collection_name(roos)) == before  # nothing written

    kilos = shop(tmp_path / "kilos")
    await run_index(data, embed_server, kilos, schema="kilo")
    before = stored(data, kilo.collection_name(kilos))
    for schema in ("roo", "zoo"):
        with pytest.raises(UsageError) as refused:
            await run_index(data, embed_server, kilos, schema=schema)
        line = str(refused.value)
        assert "\n" not in line and "holds Kilo Code's index" in line and f"--schema {schema} does not write" in line
        assert "--schema kilo" in line
    assert stored(data, kilo.collection_name(kilos)) == before


async def test_a_kilo_collection_of_another_profile_is_refused(tmp_path: Path, env: Path, embed_server: EmbedServer):
    kilo_config(env, embed_server)
    ws = shop(tmp_path / "shop")
    data = tmp_path / "qdrant"
    name = kilo.collection_name(ws)
    kilo_writes(
        data, name, kilo_points(ws, "docs/guide.md", GUIDE), kilo.marker_payload("ollama", "all-minilm", 64, True, 1)
    )
    with pytest.raises(UsageError, match="another profile"):
        await run_index(data, embed_server, ws)
    assert "indexedBy" not in json.dumps(stored(data, name))


# -- reading one --------------------------------------------------------------------------------
async def test_a_kilo_collection_is_described_as_kilos_and_searched_as_kilo_searches(
    tmp_path: Path, env: Path, embed_server: EmbedServer
):
    from qdrant_client import models as m

    kilo_config(env, embed_server)
    ws = shop(tmp_path / "shop")
    data = tmp_path / "qdrant"
    await run_index(data, embed_server, ws)
    name = kilo.collection_name(ws)
    # a point without fileHash (Roo Code's payload), whose vector is the query's own
    query = "Turn a price into cents"
    stray = {"filePath": "src/stray.ts", "codeChunk": "stray", "startLine": 1, "endLine": 1}
    kilo_writes(
        data, name, [m.PointStruct(id=roo.point_id("stray"), vector=hash_embed(query, 64).tolist(), payload=stray)]
    )
    settings = Settings(
        embedder=EmbedderSettings(provider="openai", base_url=embed_server.base_url, model=embed_server.model),
        store=StoreSettings(backend="qdrant", path=data),
    )
    store = QdrantStore(settings.store)
    embedder = OpenAIEmbedder(settings.embedder)
    try:
        info = await roo_qdrant.describe(store, name)
        assert info is not None and info.owner == "kilo-code" and "Kilo Code's" in info.owner_why
        assert info.indexing_complete is True and info.points == 4 + 1  # app.ts, util.py, guide.md (2), the stray
        listed = await catalog.info(store, name, detect.Scan())
        assert listed.roo is not None and listed.roo.owner == "kilo-code"
        (result,) = await catalog.search_many(store, embedder, name, [query], limit=10, workspaces=[str(ws)])
        paths = [h.path for h in result.hits]
        assert "src/stray.ts" not in paths and paths  # isPayloadValid() drops it
        assert {h.root for h in result.hits} == {str(ws)}
    finally:
        await embedder.aclose()
        await store.close()


# -- --schema auto --------------------------------------------------------------------------------
async def test_auto_picks_kilo_by_its_metadata_point(tmp_path: Path, env: Path, embed_server: EmbedServer):
    kilo_config(env, embed_server)
    ws = shop(tmp_path / "shop")
    data = tmp_path / "qdrant"
    # nothing installed, no cache: auto cannot tell, and says how to choose
    with pytest.raises(UsageError, match=r"cannot tell which agent.*--schema roo\|zoo\|kilo"):
        await run_index(data, embed_server, ws, schema="auto")
    await run_index(data, embed_server, ws, schema="kilo")
    assert schemas.choose("auto", [str(ws)], None).key == ""  # no cache file: the marker decides
    progress = await run_index(data, embed_server, ws, schema="auto")
    assert progress.schema == "kilo" and progress.schema_why == "its collection holds Kilo Code's metadata point"
    # Roo Code's metadata point leaves Kilo out
    roos = shop(tmp_path / "roos")
    await run_index(data, embed_server, roos, schema="roo")
    with pytest.raises(UsageError, match=r"--schema roo\|zoo$"):
        await run_index(data, embed_server, roos, schema="auto")


async def test_which_tells_each_agents_collection_of_a_workspace(tmp_path: Path, env: Path, embed_server: EmbedServer):
    """``agents which``: each agent's collection name for the workspace, which exists, the marker's
    layout, the cache file that names it, and the agent that indexes it."""
    kilo_config(env, embed_server)
    ws = shop(tmp_path / "shop")
    link = tmp_path / "link"
    link.symlink_to(ws)  # Kilo Code names the collection after the realpath, Roo Code after the path
    data = tmp_path / "qdrant"
    store = QdrantStore(StoreSettings(backend="qdrant", path=data))
    try:
        before = await schemas.which(str(link), store)
    finally:
        await store.close()
    by = {a["schema"]: a for a in before["agents"]}
    assert by["roo"]["collection"] == by["zoo"]["collection"] == roo.collection_name(str(link))
    assert by["kilo"]["collection"] == kilo.collection_name(str(ws)) != by["roo"]["collection"]
    assert not any(a["exists"] for a in before["agents"]) and before["owner"]["agent"] is None

    await run_index(data, embed_server, link, agent_cache="")
    store = QdrantStore(StoreSettings(backend="qdrant", path=data))
    try:
        after = await schemas.which(str(link), store)
    finally:
        await store.close()
    by = {a["schema"]: a for a in after["agents"]}
    assert by["kilo"]["exists"] and by["kilo"]["layout"] == "kilo-code" and by["kilo"]["points"] > 0
    assert by["kilo"]["cache"] == str(env / ".local/state/kilo/indexing" / kilo.cache_name(str(ws)))
    assert not by["roo"]["exists"] and by["roo"]["cache"] is None
    assert after["owner"] == {"agent": "kilo-code", "why": "its cache file names this workspace"}
