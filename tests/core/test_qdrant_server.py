"""QdrantStore over real HTTP to a Qdrant server that can be broken (tests/support/qdrant_server.py).

The store contract and the rebuild tests run here unchanged against the server; then faults:
transient ones (503, 429 with Retry-After, cut connections, truncated answers, answers past the
timeout, a restart mid-run) are retried until the run ends with exactly the points of a
fault-free run; others (400, 401, 404, an old server) fail at once in one line that names the
server and never the API key; a server that stays away ends the run once store.patience_s is
spent.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator

import pytest
import test_rebuild
import test_search
import test_store_contract
import test_vector_reuse
from support.qdrant_server import QdrantServer
from support.stores import POINTS, all_points, make_store, vec

from roocode_tui.core.backends import prepare_indexer
from roocode_tui.core.collections import snapshots
from roocode_tui.core.config import EmbedderSettings, IndexSettings, Settings, StoreSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.errors import CollectionNotFoundError, StoreError
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.search.searcher import search
from roocode_tui.core.stores.base import CollectionMeta
from roocode_tui.core.stores.qdrant import QdrantStore

NAME = "demo"
SECRET = "sentinel-qdrant-key-0123456789"
SMALL = IndexSettings(chunk_tokens=60, chunk_overlap_tokens=6)
KEY_FIELDS = ("root", "path", "start_line", "end_line", "chunk_hash", "file_hash", "text")

# The store contract and the rebuild tests, run here against the server over HTTP: pytest
# collects them in this module too, where `store` is the fixture below.
test_contract_over_http = test_store_contract.test_collection_lifecycle_and_points
test_seed_over_http = test_store_contract.test_a_collection_seeded_from_another_holds_the_points_of_one_root
test_branch_copied_over_http = (
    test_vector_reuse.test_a_branch_s_collection_starts_as_a_copy_and_ends_as_one_embedded_afresh
)
test_rebuild_switch_over_http = test_rebuild.test_searches_use_the_old_index_until_the_switch
test_rebuild_cancel_and_resume_over_http = test_rebuild.test_a_cancelled_rebuild_leaves_the_old_index_and_resumes
test_rebuild_abort_over_http = test_rebuild.test_abort_drops_only_the_new_index
test_lanes_in_one_batch_request_over_http = test_search.test_lanes_asked_together_answer_as_each_asked_alone


@pytest.fixture
def qdrant() -> Iterator[QdrantServer]:
    with QdrantServer() as srv:
        yield srv


def connect(srv: QdrantServer, **kw) -> QdrantStore:
    settings = {"backend": "qdrant", "url": srv.url, "timeout_s": 2, "patience_s": 10, **kw}
    return QdrantStore(StoreSettings(**settings))


@pytest.fixture
async def store(qdrant: QdrantServer):
    s = connect(qdrant)
    yield s
    await s.close()


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def embedder_for(embed_server, **kw) -> OpenAIEmbedder:
    settings = {"provider": "openai", "base_url": embed_server.base_url, "model": embed_server.model, **kw}
    return OpenAIEmbedder(EmbedderSettings(**{"batch_size": 8, **settings}))


async def make_collection(store: QdrantStore, name: str = "c1") -> None:
    await store.create_collection(
        CollectionMeta(name=name, model="m", dimension=8, query_prefix="", document_prefix="")
    )


def same_points(got: dict[str, dict], want: dict[str, dict]) -> None:
    assert set(got) == set(want)
    for pid, payload in want.items():
        assert {k: got[pid][k] for k in KEY_FIELDS} == {k: payload[k] for k in KEY_FIELDS}


def statuses(srv: QdrantServer, method: str, path: str) -> list[int | None]:
    return [s.status for s in srv.requests(method, path)]


# -- the whole path over HTTP ------------------------------------------------------------------------
async def test_index_search_and_rebuild_switch_the_alias_on_the_server(
    qdrant, store, http_embedder, corpus, small_chunks
):
    run = await Indexer(store, http_embedder, NAME, [corpus], index=small_chunks).run()
    assert run.phase == "done" and run.points_written > 0
    ids = qdrant.point_ids(NAME)
    assert len(ids) == len(set(ids)) == run.points_written == await store.count(NAME)
    hits = (await search(store, http_embedder, NAME, "restore the data from a snapshot")).hits
    assert hits and hits[0].path == "docs/backups.md"

    first = await store.physical_name(NAME)
    (corpus / "docs" / "zebra.md").write_text("# Zebra crossings\n\nThe zebra protocol hands the token on.\n")
    indexer = await prepare_indexer(Settings(index=small_chunks), store, http_embedder, [], NAME, rebuild=True)
    rebuilt = await indexer.run()
    assert rebuilt.switched and rebuilt.phase == "done"
    second = await store.physical_name(NAME)
    assert second != first and second.startswith(f"{NAME}--")
    # on the server: one alias, to the new physical collection; the old one is gone
    on_server = {a.alias_name: a.collection_name for a in qdrant.local.get_aliases().aliases}
    assert on_server == {NAME: second}
    assert [c.name for c in qdrant.local.get_collections().collections] == [second]
    assert await store.list_collections() == [NAME]
    found = {h.path for h in (await search(store, http_embedder, NAME, "zebra protocol token")).hits}
    assert "docs/zebra.md" in found
    assert len(qdrant.requests("POST", r"^/collections/aliases$")) == 2  # created, then switched


async def test_files_touched_but_unchanged_get_their_times_in_one_batch_request(qdrant, store, http_embedder, corpus):
    """A re-run after files were touched (same content, new mtime) embeds and writes nothing but
    their file times, sent in batches of payload updates (``/points/batch``, one a batch of the
    reader's findings), never one request a file."""
    await Indexer(store, http_embedder, NAME, [corpus], index=SMALL).run()
    docs = sorted((corpus / "docs").glob("*.md"))
    stamp = time.time_ns() + 10**12
    for f in docs:
        os.utime(f, ns=(stamp, stamp))
    again = await Indexer(store, http_embedder, NAME, [corpus], index=SMALL).run()
    assert again.chunks_embedded == 0 and again.points_written == 0 and again.files_unchanged >= len(docs)
    batches = [r.status for r in qdrant.requests("POST", r"/points/batch$")]
    assert batches and set(batches) == {200} and qdrant.requests("POST", r"/points/payload$") == []
    times = {p["path"]: p["mtime_ns"] for p in (await all_points(store, NAME)).values()}
    assert all(times[f"docs/{f.name}"] == stamp for f in docs)


async def test_a_collection_seeded_on_the_server_leaves_no_snapshot_and_has_its_alias(qdrant, store):
    """Seeding makes a snapshot on the server, uploads it under a new physical name behind the
    new collection's alias, and removes the snapshot from the server."""
    await make_collection(store, "src")
    await store.upsert("src", POINTS)
    target = CollectionMeta(name="copy", model="m", dimension=8, query_prefix="", document_prefix="")
    assert await store.seed_collection("src", target, {"root": "/r"}, {"root": "/w"}) == 3
    physical = await store.physical_name("copy")
    assert physical.startswith("copy--") and await store.list_collections() == ["copy", "src"]
    assert (await store.get_meta("copy")).name == "copy"
    assert len(qdrant.requests("POST", r"/snapshots$")) == 1  # one made, and removed:
    assert [r.status for r in qdrant.requests("DELETE", r"/snapshots/")] == [200]
    assert qdrant.snapshots.get(await store.physical_name("src"), {}) == {}
    assert [r.status for r in qdrant.requests("POST", r"/snapshots/upload$")] == [200]


async def test_a_cluster_s_collections_are_not_seeded_from_a_node_s_snapshot(qdrant, store):
    """A node's collection snapshot holds its own shards only: in a cluster the store seeds
    nothing (the run copies file by file)."""
    qdrant.peers = ["10.0.0.2", "10.0.0.3"]
    await make_collection(store, "src")
    await store.upsert("src", POINTS)
    target = CollectionMeta(name="copy", model="m", dimension=8, query_prefix="", document_prefix="")
    assert await store.seed_collection("src", target, {"root": "/r"}, {"root": "/w"}) is None
    assert await store.list_collections() == ["src"] and qdrant.requests("POST", r"/snapshots$") == []


async def test_a_snapshot_is_made_downloaded_and_restored_into_a_new_name(
    qdrant, store, http_embedder, corpus, tmp_path
):
    await Indexer(store, http_embedder, NAME, [corpus], index=SMALL).run()
    snap = await snapshots.take(store, tmp_path, NAME)
    assert snap.path.is_file() and snap.size == snap.path.stat().st_size > 0
    listed = await snapshots.list_snapshots(store, tmp_path, NAME)
    assert [s.where for s in listed] == ["file", "server"] and listed[1].name == snap.name

    done = await snapshots.restore(store, "restored", snap.path)
    assert done["collection"] == "restored" and done["points"] == await store.count(NAME)
    same_points(await all_points(store, "restored"), await all_points(store, NAME))
    assert (await store.get_meta("restored")).name == "restored"  # the build record renamed
    query = "restore the data from a snapshot"
    want = [(h.path, h.start_line) for h in (await search(store, http_embedder, NAME, query)).hits]
    assert want == [(h.path, h.start_line) for h in (await search(store, http_embedder, "restored", query)).hits]


# -- refusals: at once, one line -----------------------------------------------------------------------
async def test_an_old_server_is_refused_in_one_line(qdrant):
    qdrant.version = "1.12.4"
    store = connect(qdrant)
    try:
        with pytest.raises(StoreError) as info:
            await store.list_collections()
        line = str(info.value)
        assert line == (
            f"Qdrant at {qdrant.url} is version 1.12.4; roocode-tui needs Qdrant 1.16.0 or newer (collection metadata)"
        )
        qdrant.version = "1.16.3"  # the check is made again until it passes
        fresh = connect(qdrant)
        assert await fresh.list_collections() == []
        await fresh.close()
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("key", "answer"),
    [("wrong-key-0000000000", "Invalid API key or JWT"), (None, "Must provide an API key")],
    ids=["wrong-key", "no-key"],
)
async def test_a_wrong_api_key_is_one_clear_line_and_never_shown(key, answer):
    with QdrantServer(api_key=SECRET) as srv:
        good = connect(srv, api_key=SECRET)
        await make_collection(good)
        assert await good.list_collections() == ["c1"]
        await good.close()

        bad = connect(srv, api_key=key)
        before = len(srv.seen)
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            await bad.list_collections()
        line = str(info.value)
        assert line.startswith(f"Qdrant at {srv.url}: unauthorised (HTTP 401: {answer}")
        assert "check store.api_key" in line and "\n" not in line
        assert SECRET not in line and (key is None or key not in line)
        refused = [s for s in srv.seen[before:] if s.status == 401]
        assert len(refused) == 1 and time.monotonic() - started < 1  # never retried
        await bad.close()


@pytest.mark.parametrize(
    ("status", "shown"),
    [(400, "HTTP 400: Bad request: the request was refused"), (500, "HTTP 500: Service internal error")],
    ids=["400", "500"],
)
async def test_answers_that_are_not_transient_fail_at_once(qdrant, store, status, shown):
    await make_collection(store)
    qdrant.faults.answer(status, method="PUT", path=r"/points$")
    started = time.monotonic()
    with pytest.raises(StoreError) as info:
        await store.upsert("c1", POINTS)
    assert time.monotonic() - started < 1
    assert str(info.value).startswith(f"Qdrant at {qdrant.url}: {shown}") and "gave up" not in str(info.value)
    assert statuses(qdrant, "PUT", r"/points$") == [status]  # one try
    await store.upsert("c1", POINTS)  # the server is fine otherwise
    assert await store.count("c1") == len(POINTS)


async def test_a_missing_collection_is_named_at_once(qdrant, store):
    with pytest.raises(CollectionNotFoundError) as info:
        await store.count("nowhere")
    assert str(info.value) == f"Qdrant at {qdrant.url}: Not found: Collection `nowhere` doesn't exist!"
    assert len(qdrant.requests("POST", r"/points/count$")) == 1


# -- transient faults: retried until the call succeeds ----------------------------------------------------
async def test_a_503_then_success_is_retried(qdrant, store):
    await make_collection(store)
    qdrant.faults.answer(503, times=2, method="PUT", path=r"/points$")
    qdrant.faults.answer(502, method="POST", path=r"/points/count$")
    qdrant.faults.answer(504, method="POST", path=r"/points/scroll$")
    await store.upsert("c1", POINTS)
    assert statuses(qdrant, "PUT", r"/points$") == [503, 503, 200]
    assert await store.count("c1") == len(POINTS)
    assert statuses(qdrant, "POST", r"/points/count$") == [502, 200]
    assert len(await all_points(store, "c1")) == len(POINTS)
    assert qdrant.faults.pending == 0


async def test_429_waits_for_its_retry_after(qdrant, store):
    await make_collection(store)
    await store.upsert("c1", POINTS)
    qdrant.faults.answer(429, retry_after=1, method="POST", path=r"/points/count$")
    assert await store.count("c1") == len(POINTS)
    limited, retried = qdrant.requests("POST", r"/points/count$")
    assert (limited.status, retried.status) == (429, 200)
    assert retried.at - limited.at >= 0.95  # Retry-After: 1, not the first backoff (about 0.5 s)


async def test_a_retry_after_past_the_patience_fails_at_once(qdrant):
    store = connect(qdrant, patience_s=1)
    try:
        await make_collection(store)
        qdrant.faults.answer(429, retry_after=30, method="POST", path=r"/points/count$")
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            await store.count("c1")
        assert time.monotonic() - started < 0.5
        assert str(info.value) == (
            f"Qdrant at {qdrant.url}: HTTP 429: Rate limiting exceeded: Write rate limit exceeded: Operation "
            "requires 1 tokens but only 0 were available. Retry after 30s (it asks for 30s more, past store.patience_s)"
        )
    finally:
        await store.close()


async def test_cut_garbled_and_late_answers_are_retried(qdrant, store):
    await make_collection(store)
    qdrant.faults.drop(method="PUT", path=r"/points$")  # cut before the write
    qdrant.faults.lose_answer(method="POST", path=r"/points/delete$")  # the delete done, its answer lost
    qdrant.faults.garble(method="POST", path=r"/points/scroll$")  # a truncated 200
    qdrant.faults.delay(2.5, method="POST", path=r"/points/query$")  # past timeout_s = 2
    await store.upsert("c1", POINTS)
    await store.delete_ids("c1", [POINTS[0].id])
    assert await store.count("c1") == len(POINTS) - 1
    assert len(await all_points(store, "c1")) == len(POINTS) - 1
    hits = await store.search("c1", vec(1, 0.2), 1)
    assert [h.id for h in hits] == [POINTS[1].id]
    assert statuses(qdrant, "PUT", r"/points$") == [None, 200]
    assert [s.fault for s in qdrant.requests("POST", r"/points/delete$")] == ["lose_answer", None]
    assert qdrant.faults.pending == 0


async def test_a_create_whose_answer_was_lost_is_not_made_twice(qdrant, store):
    qdrant.faults.lose_answer(method="PUT", path=r"^/collections/c1--[0-9a-f]{8}$")
    qdrant.faults.lose_answer(method="POST", path=r"^/collections/aliases$")
    await make_collection(store)  # the retried create is answered 409: the lost try made it
    assert statuses(qdrant, "PUT", r"^/collections/c1--[0-9a-f]{8}$") == [None, 409]
    assert statuses(qdrant, "POST", r"^/collections/aliases$") == [None, 200]  # the same alias again
    assert len(qdrant.local.get_collections().collections) == 1
    assert await store.list_collections() == ["c1"] and await store.get_meta("c1") is not None


# -- a server that stays away, and one that comes back ------------------------------------------------------
@pytest.mark.parametrize(
    ("break_it", "shown"),
    [
        (lambda srv: srv.faults.down(3600, method="PUT", path=r"/points$"), " is unreachable: connection"),
        (lambda srv: srv.faults.answer(503, times=10**6), ": HTTP 503: Shard temporarily unavailable"),
        (lambda srv: srv.faults.answer(502, times=10**6), ": HTTP 502: 502 Bad Gateway"),
    ],
    ids=["down-for-good", "503-for-good", "502-from-the-proxy"],
)
async def test_a_store_that_never_comes_back_ends_the_run_in_bounded_time(
    qdrant, embed_server, corpus, break_it, shown
):
    patience = 1.5
    store = connect(qdrant, patience_s=patience, api_key=SECRET)
    embedder = embedder_for(embed_server)
    try:
        await make_collection(store, NAME)  # the server has answered: from now on it is waited for
        await store.delete_collection(NAME)
        break_it(qdrant)
        indexer = Indexer(store, embedder, NAME, [corpus], index=SMALL)
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            await indexer.run()
        took = time.monotonic() - started
    finally:
        await embedder.aclose()
        await store.close()
    line = str(info.value)
    assert line.startswith(f"Qdrant at {qdrant.url}{shown}") and "gave up after" in line, line
    assert "\n" not in line and SECRET not in line
    assert indexer.progress.phase == "failed" and indexer.progress.message.startswith(line)
    assert patience <= took < patience + 3  # retried for store.patience_s, then stopped


OUTAGE_S = 2.5  # the figure is a 20 s restart: the slow variant below


@pytest.mark.parametrize("outage_s", [OUTAGE_S, pytest.param(20.0, marks=pytest.mark.slow, id="20s-restart")], ids=str)
async def test_a_run_survives_a_server_outage_mid_run(qdrant, embed_server, corpus, outage_s):
    store = connect(qdrant, patience_s=outage_s + 20)
    # small batches one at a time, answered slowly: the run writes file by file, several times
    embedder = embedder_for(embed_server, batch_size=2, max_concurrency=1)
    embed_server.faults.delay_s = 0.02
    try:
        reference = await Indexer(store, embedder, "reference", [corpus], index=SMALL).run()
        writes = len(qdrant.requests("PUT", r"^/collections/reference/points$"))
        assert writes >= 4, "too few writes for an outage in the middle"
        # the server goes away at the run's third write, for outage_s; that write is cut
        qdrant.faults.down(outage_s, method="PUT", path=rf"^/collections/{NAME}/points$", skip=2)
        # the same work again (not the reference's vectors taken by content: ingest/reuse.py)
        task = asyncio.create_task(Indexer(store, embedder, NAME, [corpus], index=SMALL, reuse=False).run())
        while qdrant.up.is_set() and not task.done():  # wait for the outage
            await asyncio.sleep(0.02)
        assert not task.done() and not qdrant.up.is_set()
        while not qdrant.up.is_set():
            assert not task.done(), "the run ended while the server was down"
            await asyncio.sleep(0.05)
        run = await asyncio.wait_for(task, timeout=outage_s + 30)
        assert run.phase == "done" and run.files_failed == 0, run.message
        (outage,) = qdrant.outages
        assert outage.up_at is not None and outage.up_at - outage.down_at >= outage_s * 0.95
        writes_at = [s.at for s in qdrant.requests("PUT", rf"^/collections/{NAME}/points$")]
        assert min(writes_at) < outage.down_at < outage.up_at < max(writes_at)  # writes before and after

        # nothing lost, nothing twice: the fault-free run's points, each once
        ids = qdrant.point_ids(NAME)
        assert len(ids) == len(set(ids)) == reference.points_written == run.points_written
        assert await store.count(NAME) == reference.points_written
        same_points(await all_points(store, NAME), await all_points(store, "reference"))
        query = "restore the data from a snapshot"
        want = [(h.path, h.start_line) for h in (await search(store, embedder, "reference", query)).hits]
        assert want and want == [(h.path, h.start_line) for h in (await search(store, embedder, NAME, query)).hits]
    finally:
        await embedder.aclose()
        await store.close()


async def test_a_wrong_url_fails_fast(unused_port):
    store = QdrantStore(StoreSettings(backend="qdrant", url=f"http://127.0.0.1:{unused_port}", patience_s=600))
    started = time.monotonic()
    with pytest.raises(StoreError, match=rf"^Qdrant at http://127.0.0.1:{unused_port} is unreachable: connection"):
        await store.list_collections()
    assert time.monotonic() - started < 3  # a server never seen gets 2 s, not store.patience_s
    await store.close()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "qdrant.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    where = tmp_path_factory.mktemp("tls")
    cert_file, key_file = where / "cert.pem", where / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


async def test_tls_with_its_ca_cert_or_verification_off_and_one_line_without(tls_files):
    cert, _ = tls_files
    with QdrantServer(tls=tls_files) as q:
        assert q.url.startswith("https://127.0.0.1:")
        trusted = connect(q, ca_cert=cert)
        try:
            meta = CollectionMeta(name="tls", model="m", dimension=4, query_prefix="", document_prefix="")
            await trusted.create_collection(meta)
            assert await trusted.list_collections() == ["tls"]
        finally:
            await trusted.close()
        unverified = connect(q, verify_tls=False)
        try:
            assert await unverified.list_collections() == ["tls"]
        finally:
            await unverified.close()
        strict = connect(q)  # the system's CAs do not know this certificate
        started = time.monotonic()
        try:
            with pytest.raises(StoreError) as info:
                await strict.list_collections()
        finally:
            await strict.close()
        line = str(info.value)
        assert line.startswith(f"Qdrant at {q.url}") and "\n" not in line
        assert "certificate" in line.lower() and "store.ca_cert" in line, line
        assert time.monotonic() - started < 5  # a certificate does not get better by waiting


async def test_a_copy_to_a_server_and_back_through_its_faults(qdrant, http_embedder, tmp_path, corpus, small_chunks):
    """`collections copy` to a Qdrant server over HTTP, with a 503, a lost answer and a cut
    connection on its writes: the copy ends with the source's points, once each, and searches
    there and back answer as the source does."""
    from support.stores import answers, assert_same_answers, assert_same_points, every_point

    from roocode_tui.core.collections.transfer import copy_collection

    source = make_store("embedded", tmp_path / "edge")
    server = connect(qdrant)
    back = make_store("embedded", tmp_path / "edge2")
    try:
        await Indexer(source, http_embedder, "demo", [corpus], index=small_chunks).run()
        writes = r"^/collections/demo[^/]*/points$"
        qdrant.faults.answer(503, method="PUT", path=writes, skip=1)
        qdrant.faults.lose_answer(method="PUT", path=writes, skip=3)
        qdrant.faults.drop(method="PUT", path=writes, skip=5)
        there = await copy_collection(source, server, "demo", source_label="embedded", target_label="server", page=4)
        assert there.status == "done" and there.points_total == await source.count("demo") > 4 * 6
        assert qdrant.faults.pending == 0  # every fault was met
        ids = qdrant.point_ids("demo")
        assert len(ids) == len(set(ids)) == there.points_total
        returned = await copy_collection(server, back, "demo", source_label="server", target_label="edge2")
        assert returned.points_copied == there.points_total
        original = await every_point(source, "demo")
        assert_same_points(original, await every_point(server, "demo"))
        assert_same_points(original, await every_point(back, "demo"))
        expected = await answers(source, http_embedder, "demo")
        assert_same_answers(await answers(server, http_embedder, "demo"), expected)
    finally:
        for s in (source, server, back):
            await s.close()
