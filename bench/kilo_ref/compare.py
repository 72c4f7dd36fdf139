"""``bench/kilo_check.py compare``: roocode-tui's ``--schema kilo`` against Kilo Code's own index of a workspace.

Runs roocode-tui's whole index run (walker, chunker, payloads, metadata point, ``--write-cache``) over the
workspace into qdrant-client's local mode, with a fake embedder giving the harness's vectors for the dump's
embedding profile and a Kilo config (``kilo.jsonc`` in a config directory of its own) naming that profile,
then counts Kilo's points it reproduces exactly (id, every payload key and value in Kilo's order, the text
Kilo embedded), per extension, and compares the metadata point, the collection and the cache file. The
``--store-check`` step loads the collection it wrote into the harness's store, puts its cache file in
Kilo's cache directory and runs Kilo's own indexer on it (``run_index`` of bench/kilo_check.py).
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent

KILO_KEYS = ["filePath", "fileHash", "codeChunk", "startLine", "endLine", "segmentHash", "pathSegments"]


def _js_sha256(text: str) -> str:
    """Node's sha256 of a string (UTF-8, a lone surrogate as U+FFFD)."""
    return hashlib.sha256("".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text).encode()).hexdigest()


def fake_vector(text: str, dimension: int) -> list[float]:
    """harness/main.ts fakeVector(): the vectors Kilo's run got for the same texts."""
    out: list[float] = []
    block = bytes.fromhex(_js_sha256(text))
    for i in range(dimension):
        if i > 0 and i % 32 == 0:
            block = hashlib.sha256(block).digest()
        out.append(round((block[i % 32] - 127.5) / 127.5 * 1e6) / 1e6)
    return out


def run_ours(workspace: Path, work: Path, profile: dict) -> dict:
    """roocode-tui's ``index WORKSPACE --schema kilo --write-cache`` with the dump's profile in Kilo's
    config (its own XDG directories under ``work``), into qdrant-client's local mode; what it wrote."""
    import asyncio

    import numpy as np

    sys.path.insert(0, str(ROOT))
    from qdrant_client import QdrantClient

    from roocode_tui.core.agents import kilo, kilo_qdrant
    from roocode_tui.core.config import EmbedderSettings, Settings, StoreSettings
    from roocode_tui.core.embedders.base import Embedder
    from roocode_tui.core.stores.qdrant import QdrantStore

    class FakeEmbedder(Embedder):
        query_prefix = document_prefix = ""
        batch_size, max_concurrency, max_batch_tokens = 64, 4, 1 << 30

        def __init__(self, model: str, dimension: int):
            super().__init__()
            self.model_id, self.dim, self.texts = model, dimension, []

        async def dimension(self) -> int:
            return self.dim

        async def embed_documents(self, texts: list[str]) -> np.ndarray:
            self.texts.extend(texts)
            return np.asarray([fake_vector(t, self.dim) for t in texts], dtype=np.float32)

        async def embed_queries(self, texts: list[str]) -> np.ndarray:
            return await self.embed_documents(texts)

    shutil.rmtree(work, ignore_errors=True)
    config = work / "config" / "kilo" / "kilo.jsonc"
    config.parent.mkdir(parents=True)
    indexing = {"enabled": True, "provider": profile["provider"], "model": profile["modelId"]}
    indexing |= {"dimension": profile["dimension"], "vectorStore": "qdrant"}
    config.write_text("// the harness's embedding profile\n" + json.dumps({"indexing": indexing}, indent=2) + "\n")
    os.environ["XDG_CONFIG_HOME"] = str(work / "config")
    os.environ["XDG_STATE_HOME"] = str(work / "state")
    settings = Settings(
        embedder=EmbedderSettings(provider="openai", base_url="http://127.0.0.1:9/v1", model=profile["modelId"]),
        store=StoreSettings(backend="qdrant", path=work / "qdrant"),
    )
    embedder = FakeEmbedder(profile["modelId"], profile["dimension"])

    # qdrant-client's local mode does not keep a collection's HNSW settings: the request is recorded
    from qdrant_client import AsyncQdrantClient

    requested: dict = {}
    create = AsyncQdrantClient.create_collection

    async def recording(self: Any, name: str, **kw: Any) -> Any:
        requested[name] = kw
        return await create(self, name, **kw)

    AsyncQdrantClient.create_collection = recording  # type: ignore[method-assign]

    async def go() -> Any:
        store = QdrantStore(settings.store)
        try:
            indexer = await kilo_qdrant.prepare_indexer(
                settings, store, embedder, [str(workspace)], None, agent_cache=""
            )
            return await indexer.run()
        finally:
            await store.close()

    try:
        progress = asyncio.run(go())
    finally:
        AsyncQdrantClient.create_collection = create  # type: ignore[method-assign]
    name = kilo.collection_name(workspace)
    client = QdrantClient(path=str(work / "qdrant"))
    try:
        info = client.get_collection(name)
        points, offset = [], None
        while True:
            page, offset = client.scroll(name, limit=4096, offset=offset, with_payload=True, with_vectors=True)
            points += page
            if offset is None:
                break
    finally:
        client.close()
    cache = kilo.state_dir() / kilo.cache_name(str(workspace))
    vectors, hnsw = info.config.params.vectors, requested[name]["hnsw_config"]
    return {
        "report": progress.report(),
        "collection": name,
        "config": {
            "vectors": {"size": vectors.size, "distance": vectors.distance.value, "on_disk": vectors.on_disk},
            "hnsw_config": {"m": hnsw.m, "ef_construct": hnsw.ef_construct, "on_disk": hnsw.on_disk},
        },
        "points": {str(p.id): (p.payload, p.vector) for p in points},
        "embedded": collections.Counter(_js_sha256(t) for t in embedder.texts),
        "cache_path": cache,
        "cache": json.loads(cache.read_text()) if cache.exists() else None,
    }


def _ext(path: str) -> str:
    return os.path.splitext(path)[1].lower() or path


def compare_points(dump: dict, ours: dict) -> dict:
    """Kilo's points reproduced exactly, per extension, and every difference."""
    from roocode_tui.core.agents import kilo, roo

    theirs = {p["id"]: p for p in dump["points"]}
    mine = {pid: pv for pid, pv in ours["points"].items() if pid != kilo.MARKER_ID}
    prefix = kilo.prefix_of(dump["profile"]["provider"], dump["profile"]["modelId"])
    total: collections.Counter = collections.Counter()
    exact: collections.Counter = collections.Counter()
    diffs: list[dict] = []
    for pid, p in theirs.items():
        ext = _ext(p["payload"]["filePath"])
        total[ext] += 1
        if pid not in mine:
            diffs.append({"id": pid, "kind": "missing", "filePath": p["payload"]["filePath"]})
            continue
        payload = dict(mine[pid][0])
        owner = payload.pop("indexedBy", None)
        text = kilo.embed_text(roo.js_trim(payload["codeChunk"]), prefix)
        problems = []
        if payload != p["payload"]:
            problems.append("payload " + ", ".join(k for k in KILO_KEYS if payload.get(k) != p["payload"].get(k)))
        if list(payload) != KILO_KEYS:
            problems.append(f"key order {list(payload)}")
        if owner != "roocode-tui":
            problems.append("no indexedBy")
        if _js_sha256(text) != p["embedded_text_sha256"]:
            problems.append("embedded text")
        if problems:
            diffs.append({"id": pid, "kind": "; ".join(problems), "filePath": p["payload"]["filePath"]})
        else:
            exact[ext] += 1
    for pid in sorted(set(mine) - set(theirs)):
        diffs.append({"id": pid, "kind": "extra", "filePath": mine[pid][0].get("filePath")})
    kilos = collections.Counter(p["embedded_text_sha256"] for p in dump["points"])
    embedded = {
        "kilo_not_ours": sum((kilos - ours["embedded"]).values()),
        "ours_not_kilo": sum((ours["embedded"] - kilos).values()),
    }
    return {"total": total, "exact": exact, "diffs": diffs, "embedded": embedded}


def compare_rest(dump: dict, ours: dict) -> dict:
    """The metadata point, the collection and the cache file."""
    from roocode_tui.core.agents import kilo

    marker = ours["points"].get(kilo.MARKER_ID)
    theirs = dict(dump["metadata_point"]["payload"])
    mine = dict(marker[0]) if marker else {}
    timeless = [{k: v for k, v in d.items() if k != "completed_at"} for d in (mine, theirs)]
    same_marker = (
        marker is not None
        and list(mine) == list(theirs)
        and timeless[0] == timeless[1]
        and isinstance(mine.get("completed_at"), int)
        and len(marker[1]) == dump["metadata_point"]["vector_size"]
        and not any(marker[1])
    )
    stored = dump["collection"]["stored"]["config"]
    cache = ours["cache"] or {}
    kilo_cache = dump["cache_file"]["content"] or {}
    return {
        "metadata_point": {"exact": same_marker, "ours": mine, "kilo": theirs},
        "collection_name": ours["collection"] == dump["collection"]["name"],
        "collection_config": ours["config"] == {"vectors": stored["vectors"], "hnsw_config": stored["hnsw_config"]},
        "cache_name": ours["cache_path"].name == Path(dump["cache_file"]["path"]).name,
        "cache_entries": [len(cache), len(kilo_cache)],
        "cache_equal": cache == kilo_cache,
        "cache_differs": sorted(k for k in set(cache) | set(kilo_cache) if cache.get(k) != kilo_cache.get(k))[:50],
    }


def store_check(run_index: Any, bundle: Path, workspace: Path, ours: dict, work: Path, profile: dict) -> dict:
    """Kilo's own indexer started on the collection roocode-tui wrote (loaded into the harness's
    store) with roocode-tui's cache file: kept or deleted, and what it wrote."""
    from roocode_tui.core.agents import kilo

    store = work / "store.json"
    state = work / "kilo-state" / "kilo" / "indexing"
    shutil.rmtree(work, ignore_errors=True)
    state.mkdir(parents=True)
    shutil.copyfile(ours["cache_path"], state / ours["cache_path"].name)
    fields = ["type", *(f"pathSegments.{i}" for i in range(5))]
    indexes = [{"field_name": f, "field_schema": "keyword"} for f in fields]
    points = [{"id": pid, "vector": list(vec), "payload": payload} for pid, (payload, vec) in ours["points"].items()]
    saved = {"collections": {ours["collection"]: {"config": ours["config"], "indexes": indexes, "points": points}}}
    store.write_text(json.dumps(saved))
    dump = run_index(
        bundle,
        workspace,
        work / "store-dump.json",
        state_dir=state,
        provider=profile["provider"],
        model=profile["modelId"],
        dimension=profile["dimension"],
        store=store,
    )
    calls = collections.Counter(c["method"] for c in dump["qdrant_calls"])
    upserted = [p["id"] for c in dump["qdrant_calls"] if c["method"] == "upsert" for p in c["args"]["points"]]
    after = {p["id"]: p["payload"] for p in dump["points"]}
    before = {pid: payload for pid, (payload, _) in ours["points"].items() if pid != kilo.MARKER_ID}
    return {
        "calls": dict(calls),
        "deleted_collection": calls["deleteCollection"] > 0,
        "recreated_collection": calls["createCollection"] > 0,
        "delete_calls": calls["delete"],
        "upserted_ids": sorted(set(upserted)),
        "points_kept_unchanged": after == before,
        "marker_after": dump["metadata_point"]["payload"] if dump["metadata_point"] else None,
        "status": dump["status"],
        "cache_unchanged": dump["cache_file"]["content"] == ours["cache"],
    }


def compare(run_index: Any, bundle: Path, workspace: Path, dump_path: Path | None, work: Path, store: bool) -> dict:
    if dump_path is None:
        dump_path = work.parent / "kilo-dump.json"
        shutil.rmtree(work.parent / "kilo-dump-state", ignore_errors=True)
        run_index(
            bundle,
            workspace,
            dump_path,
            state_dir=work.parent / "kilo-dump-state",
            provider="openai-compatible",
            model="kilo-ref-fake-embedder",
            dimension=16,
        )
    dump = json.loads(dump_path.read_text())
    if os.path.realpath(workspace) != dump["workspace_path"]:
        sys.exit(f"the dump is of {dump['workspace_path']}, not {workspace}")
    ours = run_ours(workspace, work, dump["profile"])
    result = {"points": compare_points(dump, ours), **compare_rest(dump, ours), "run": ours["report"]}
    if store:
        result["store_check"] = store_check(run_index, bundle, workspace, ours, work / "store-check", dump["profile"])
    return result


def print_compare(result: dict) -> None:
    pts = result["points"]
    total, exact = sum(pts["total"].values()), sum(pts["exact"].values())
    print(f"Kilo's points reproduced exactly: {exact}/{total} ({100 * exact / max(total, 1):.2f} %)")
    print(f"{'ext':10} {'kilo':>6} {'exact':>6}")
    for ext in sorted(pts["total"], key=lambda e: -pts["total"][e]):
        print(f"{ext:10} {pts['total'][ext]:6} {pts['exact'][ext]:6}")
    kinds = collections.Counter((d["kind"], _ext(d["filePath"] or "")) for d in pts["diffs"])
    for (kind, ext), n in kinds.most_common():
        print(f"  differs: {n} {ext} points: {kind}")
    print(
        f"texts embedded: Kilo's not ours {pts['embedded']['kilo_not_ours']}, "
        f"ours not Kilo's {pts['embedded']['ours_not_kilo']}"
    )
    print(f"metadata point exact: {result['metadata_point']['exact']}")
    print(f"collection name {result['collection_name']}, config {result['collection_config']}")
    print(
        f"cache file: name {result['cache_name']}, entries ours/Kilo's {result['cache_entries']}, "
        f"equal {result['cache_equal']}"
    )
    if "store_check" in result:
        sc = result["store_check"]
        print(
            f"Kilo on our collection: calls {sc['calls']}; collection deleted {sc['deleted_collection']}, "
            f"recreated {sc['recreated_collection']}; point deletes {sc['delete_calls']}; upserted ids "
            f"{sc['upserted_ids']}; points kept unchanged {sc['points_kept_unchanged']}; cache unchanged "
            f"{sc['cache_unchanged']}; marker after {sc['marker_after']}"
        )
