"""A Qdrant server through ``AsyncQdrantClient`` (or qdrant-client's local mode with ``path``).

The collection's build record (model, dimension, prefixes) lives in Qdrant's collection
metadata under ``roocode_tui``, so every client of the server sees it.

A collection NAME is an alias to a physical collection ``NAME--<8 hex>``: a rebuild fills a
second physical collection and moves the alias in one atomic alias operation, so searches
through NAME never see a half-built index. (Collections made before aliases were used are
plain collections; their first rebuild deletes the old one just before creating the alias.)

Every call to a server goes through one retry wrapper (:class:`_Retrying`): a refused or cut
connection, a timeout, an unreadable answer, 429 (after its Retry-After) and 502/503/504 are
tried again with exponential backoff and jitter, at most ``RETRY_ATTEMPTS`` tries within
``store.patience_s`` seconds; then one StoreError line names the server and its last answer.
Other answers (400, 401/403, 404, 409, 500) fail at once. A server that has never answered is
given ``FIRST_CONTACT_S`` at most, so a wrong URL fails fast. Retried writes are idempotent:
points are upserted and deleted by id, payloads set by id, an alias is overwritten by the same
alias, deleting what is gone is no error; a create answered 409 after a try whose answer was
lost counts as done.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import random
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np

from roocode_tui.core.config import StoreSettings, check_collection_name
from roocode_tui.core.errors import CollectionNotFoundError, StoreBusyError, StoreError
from roocode_tui.core.stores.base import (
    DENSE,
    KEYWORD_FIELDS,
    SPARSE,
    STATE_FIELDS,
    CollectionMeta,
    FileState,
    Hit,
    Lane,
    PointRecord,
    SearchFilter,
    Store,
    accumulate_state,
    dense_of,
    same_build,
)

META_KEY = "roocode_tui"
PHYSICAL = re.compile(r"^(?P<base>.+)--(?P<tag>[0-9a-f]{8})$")  # NAME--1a2b3c4d behind alias NAME
MIN_SERVER = (1, 16, 0)  # collection metadata
SCROLL_PAGE = 2048

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
RETRY_ATTEMPTS = 20  # tries of one call at most, however long store.patience_s is
RETRY_FIRST_S = 0.5  # the first pause; it doubles after each failed try...
RETRY_MAX_S = 10.0  # ...up to this, each one jittered by +-25%
FIRST_CONTACT_S = 2.0  # patience with a server that has never answered (a wrong URL fails fast)

LOG = logging.getLogger("roocode_tui.store")


@dataclasses.dataclass(frozen=True, slots=True)
class _Failure:
    """What went wrong with one call, in one line; ``transient``: worth another try."""

    reason: str
    transient: bool
    status: int | None = None  # the HTTP status the server answered (None: no answer)
    retry_after: float | None = None
    unreachable: bool = False  # no connection at all


def _answer_text(content: bytes) -> str:
    """The error a server's answer carries: Qdrant's ``status.error``, or its text (HTML stripped)."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("status"), dict) and body["status"].get("error"):
        return str(body["status"]["error"])
    text = re.sub(r"<[^>]+>", " ", content.decode("utf-8", "replace"))
    text = re.sub(r"\s+", " ", text).strip()
    if m := re.match(r"^(\d{3} [^<]+?)(?: \1)?(?: nginx)?$", text):  # an nginx page: "502 Bad Gateway"
        text = m.group(1)
    return text[:300]


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("retry-after") if headers is not None else None
        return max(0.0, float(value)) if value else None
    except (TypeError, ValueError):
        return None  # an HTTP date: the backoff decides


def _failure(exc: Exception, timeout_s: float) -> _Failure:
    """Classify what a qdrant-client call raised."""
    import httpx
    from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(exc, ResourceExhaustedResponse):  # 429 with a Retry-After
        return _Failure(f"HTTP 429: {exc}", True, 429, float(exc.retry_after_s))
    if isinstance(exc, UnexpectedResponse):
        status = exc.status_code
        detail = _answer_text(exc.content) or exc.reason_phrase
        return _Failure(
            f"HTTP {status}" + (f": {detail}" if detail else ""),
            status in TRANSIENT_STATUS,
            status,
            _retry_after(exc.headers),
        )
    source = exc.source if isinstance(exc, ResponseHandlingException) else exc
    if isinstance(source, httpx.TimeoutException):
        return _Failure(f"no answer within {timeout_s:g}s", True)
    if isinstance(source, httpx.ConnectError):
        why = str(source).splitlines()[0] if str(source) else type(source).__name__
        if "CERTIFICATE_VERIFY_FAILED" in why or "certificate verify failed" in why:
            # Not transient: the same certificate fails every time.
            return _Failure(
                f"its TLS certificate is not trusted ({why}): set store.ca_cert to its CA's PEM file "
                "(or store.verify_tls = false)",
                False,
                unreachable=True,
            )
        return _Failure(f"connection failed ({why})", True, unreachable=True)
    if isinstance(source, httpx.TransportError):
        return _Failure(f"connection lost without an answer ({type(source).__name__})", True)
    if isinstance(source, json.JSONDecodeError):
        return _Failure(f"the answer is not valid JSON ({source.msg} at character {source.pos})", True)
    text = str(exc)
    if "Retry-After" in text:  # a 429 whose Retry-After qdrant-client could not read
        return _Failure("HTTP 429: rate limited", True, 429)
    return _Failure(text.splitlines()[0] if text else type(exc).__name__, False)


class _Retrying:
    """The qdrant-client client with each method call run through :meth:`QdrantStore._retry`."""

    def __init__(self, store: QdrantStore, client: Any):
        self._store = store
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._store._retry(name, attr, args, kwargs)

        return call


class QdrantStore(Store):
    backend = "qdrant"

    def __init__(self, settings: StoreSettings):
        self.settings = settings
        self._client: Any = None
        self._checked = False
        self._api_key = settings.api_key.get_secret_value() if settings.api_key else None
        self._meta_cache: dict[str, CollectionMeta] = {}
        self._answered = False  # the server has answered once (its outages are waited out)

    # -- connection --------------------------------------------------------------------------
    @property
    def where(self) -> str:
        s = self.settings
        return f"Qdrant at {s.url}" if s.url else f"Qdrant local mode at {s.data_dir}"

    def _mask(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def client(self) -> Any:
        """The client; with a server, each call is retried as the module's docstring says."""
        if self._client is None:
            from qdrant_client import AsyncQdrantClient

            s = self.settings
            if s.url:
                kwargs: dict[str, Any] = {
                    "url": s.url,
                    "api_key": self._api_key,
                    "timeout": int(s.timeout_s),
                    "prefer_grpc": s.prefer_grpc,
                }
                if s.https is not None:
                    kwargs["https"] = s.https
                if not s.verify_tls or s.ca_cert:
                    kwargs["verify"] = str(s.ca_cert) if s.ca_cert else False
                kwargs["check_compatibility"] = False  # checked here, with a clearer message
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    self._client = _Retrying(self, AsyncQdrantClient(**kwargs))
            else:
                s.data_dir.mkdir(parents=True, exist_ok=True)
                try:
                    self._client = AsyncQdrantClient(path=str(s.data_dir))
                except RuntimeError as exc:
                    if "already accessed" in str(exc):
                        raise StoreBusyError(
                            f"{self.where} is open in another process (local mode allows one at a "
                            "time): close it, or use a Qdrant server (store.url)"
                        ) from None
                    raise StoreError(f"{self.where}: {exc}") from None
        if not self._checked:
            if self.settings.url:
                await self._check_server()
            self._checked = True
        return self._client

    async def server_version(self) -> str | None:
        if not self.settings.url:
            return None  # local mode: no server

        async def run(c: Any) -> str:
            return str((await c.info()).version)

        return await self._do(run)

    async def _check_server(self) -> None:
        try:
            info = await self._client.info()
        except StoreError:
            raise
        except Exception as exc:
            raise self._translate(exc) from None
        version = tuple(int(x) for x in re.findall(r"\d+", str(info.version))[:3])
        if version and version < MIN_SERVER:
            raise StoreError(
                f"{self.where} is version {info.version}; roocode-tui needs Qdrant "
                f"{'.'.join(map(str, MIN_SERVER))} or newer (collection metadata)"
            )

    def _translate(self, exc: Exception, gave_up: str = "") -> StoreError:
        """One line naming the server and what it answered (the API key masked)."""
        f = _failure(exc, self.settings.timeout_s) if self.settings.url else None
        text = self._mask(f.reason if f else (str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        if f is not None and f.status in (401, 403):
            return StoreError(f"{self.where}: unauthorised ({text}): check store.api_key{gave_up}")
        if f is not None and f.status == 404 and "Not found: Collection" in text:
            return CollectionNotFoundError(f"{self.where}: {text.removeprefix('HTTP 404: ')}")
        if f is not None and (f.unreachable or (f.transient and f.status is None)):
            return StoreError(f"{self.where} is unreachable: {text}{gave_up}")
        return StoreError(f"{self.where}: {text}{gave_up}")

    async def _retry(self, name: str, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run one client call; transient failures are tried again (see the module's docstring)."""
        started = time.monotonic()
        pause = RETRY_FIRST_S
        retried = False
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                result = await method(*args, **kwargs)
            except Exception as exc:
                failure = _failure(exc, self.settings.timeout_s)
                self._answered = self._answered or failure.status is not None
                if not failure.transient:
                    if retried and self._done_before(name, failure):
                        return True
                    raise
                patience = (
                    self.settings.patience_s if self._answered else min(self.settings.patience_s, FIRST_CONTACT_S)
                )
                elapsed = time.monotonic() - started
                left = patience - elapsed  # the last pause is cut short: one more try at the deadline
                if attempt == RETRY_ATTEMPTS or left <= 0:
                    raise self._translate(exc, f" (gave up after {attempt} tries in {elapsed:.1f}s)") from None
                if failure.retry_after is not None and failure.retry_after > left:
                    why = f"it asks for {failure.retry_after:g}s more, past store.patience_s"
                    raise self._translate(exc, f" ({why})") from None
                backoff = pause * random.uniform(0.75, 1.25)
                wait = min(left, failure.retry_after if failure.retry_after is not None else backoff)
                LOG.warning("%s: %s; try %d in %.1fs", self.where, self._mask(failure.reason), attempt + 1, wait)
                await asyncio.sleep(wait)
                pause = min(RETRY_MAX_S, pause * 2)
                retried = True
            else:
                self._answered = True
                return result
        raise AssertionError("unreachable")  # the loop returns or raises

    @staticmethod
    def _done_before(name: str, failure: _Failure) -> bool:
        """After a try whose answer was lost, is the next try's refusal the first one's work?"""
        # Physical names are fresh per creation, so only the lost try can have made it. (Alias
        # changes need no such care: Qdrant overwrites an alias and deletes a missing one quietly.)
        return name == "create_collection" and failure.status == 409

    async def _do(self, fn: Any) -> Any:
        client = await self.client()
        try:
            return await fn(client)
        except StoreError:
            raise
        except Exception as exc:
            text = str(exc).lower()
            if not self.settings.url and "not found" in text and "collection" in text:  # local mode's ValueError
                raise CollectionNotFoundError(f"{self.where}: {self._mask(str(exc)).splitlines()[0]}") from None
            raise self._translate(exc) from None

    async def call(self, fn: Any) -> Any:
        """Run ``fn(client)`` with this store's error messages (for Roo Code's collections)."""
        return await self._do(fn)

    # -- collections -------------------------------------------------------------------------
    @staticmethod
    async def _aliases(c: Any) -> dict[str, str]:
        resp = await c.get_aliases()
        return {a.alias_name: a.collection_name for a in resp.aliases}

    async def _resolve(self, c: Any, name: str) -> str:
        return (await self._aliases(c)).get(name, name)

    async def physical_name(self, name: str) -> str:
        """The physical collection behind a collection name (itself when it is no alias)."""

        async def run(c: Any) -> str:
            return await self._resolve(c, name)

        return await self._do(run)

    async def list_collections(self) -> list[str]:
        async def run(c: Any) -> list[str]:
            resp = await c.get_collections()
            names = {col.name for col in resp.collections}
            aliases = await self._aliases(c)
            hidden = set(aliases.values()) | {n for n in names if PHYSICAL.match(n)}
            return sorted((names - hidden) | set(aliases))

        return await self._do(run)

    async def get_meta(self, name: str) -> CollectionMeta | None:
        match = PHYSICAL.match(name)
        check_collection_name(match["base"] if match else name)

        async def run(c: Any) -> CollectionMeta | None:
            try:  # by NAME in one call: the server resolves the alias as it reads (a rebuild may switch it)
                return await self._meta_of(c, name)
            except Exception as exc:
                if getattr(exc, "status_code", None) == 404 or (
                    isinstance(exc, ValueError) and "not found" in str(exc).lower()  # local mode
                ):
                    return None
                raise

        return await self._do(run)

    @staticmethod
    async def _meta_of(c: Any, physical: str) -> CollectionMeta | None:
        """The build record a collection carries (None: not ours, another tool's)."""
        info = await c.get_collection(physical)
        raw = (info.config.metadata or {}).get(META_KEY)
        return CollectionMeta.from_json(raw) if isinstance(raw, dict) else None

    async def save_meta(self, meta: CollectionMeta) -> None:
        async def run(c: Any) -> None:
            physical = await self._resolve(c, meta.name)
            await c.update_collection(physical, metadata={META_KEY: meta.to_json()})

        await self._do(run)

    async def create_collection(self, meta: CollectionMeta) -> None:
        from qdrant_client import models as m

        async def run(c: Any) -> None:
            if meta.name in await self._aliases(c) or await c.collection_exists(meta.name):
                raise StoreError(f"{self.where}: collection {meta.name!r} already exists")
            physical = await self._create_physical(c, meta)
            await c.update_collection_aliases(
                change_aliases_operations=[
                    m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=physical, alias_name=meta.name))
                ]
            )

        await self._quiet(run)

    async def _quiet(self, run: Any) -> Any:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # local mode: "payload indexes have no effect"
            return await self._do(run)

    async def _create_physical(self, c: Any, meta: CollectionMeta, *, name: str | None = None) -> str:
        """A new physical collection NAME--<tag> built as meta says; returns its name."""
        from qdrant_client import models as m

        s = self.settings
        physical = name or f"{meta.name}--{uuid.uuid4().hex[:8]}"
        await c.create_collection(
            physical,
            vectors_config={
                DENSE: m.VectorParams(
                    size=meta.dimension,
                    distance=m.Distance.COSINE,
                    on_disk=s.on_disk_vectors,
                    datatype=m.Datatype.FLOAT16 if s.vector_datatype == "float16" else m.Datatype.FLOAT32,
                )
            },
            shard_number=s.shard_number,
            replication_factor=s.replication_factor,
            hnsw_config=m.HnswConfigDiff(m=s.hnsw_m, ef_construct=s.hnsw_ef_construct),
            sparse_vectors_config={SPARSE: m.SparseVectorParams(modifier=m.Modifier.IDF)} if meta.hybrid else None,
            metadata={META_KEY: meta.to_json()},
        )
        for field in KEYWORD_FIELDS:
            await c.create_payload_index(physical, field, m.PayloadSchemaType.KEYWORD)
        return physical

    async def _stagings(self, c: Any, name: str) -> list[str]:
        """Physical collections NAME--<tag> that no alias serves: unfinished rebuilds of NAME."""
        resp = await c.get_collections()
        served = set((await self._aliases(c)).values())
        return sorted(
            col.name
            for col in resp.collections
            if (match := PHYSICAL.match(col.name)) and match["base"] == name and col.name not in served
        )

    async def delete_collection(self, name: str) -> bool:
        from qdrant_client import models as m

        async def run(c: Any) -> bool:
            aliases = await self._aliases(c)
            doomed = await self._stagings(c, name)
            if name in aliases:
                await c.update_collection_aliases(
                    change_aliases_operations=[m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=name))]
                )
                doomed.append(aliases[name])
            elif await c.collection_exists(name):
                doomed.append(name)
            for physical in doomed:
                await c.delete_collection(physical)
            return bool(doomed)

        return await self._do(run)

    # -- rebuild -----------------------------------------------------------------------------
    async def begin_rebuild(self, meta: CollectionMeta) -> str:
        async def run(c: Any) -> str:
            for staging in await self._stagings(c, meta.name):
                old = await self._meta_of(c, staging)
                if old is not None and old.staging_for == meta.name and same_build(old, meta):
                    return staging  # an unfinished rebuild: carry on where it stopped
                await c.delete_collection(staging)
            physical = f"{meta.name}--{uuid.uuid4().hex[:8]}"
            staged = dataclasses.replace(meta, name=physical, staging_for=meta.name, last_run={}, last_indexed_at=None)
            return await self._create_physical(c, staged, name=physical)

        return await self._quiet(run)

    async def finish_rebuild(self, name: str, staging: str) -> None:
        from qdrant_client import models as m

        async def run(c: Any) -> None:
            staged = await self._meta_of(c, staging)
            if staged is None or staged.staging_for != name:
                raise StoreError(f"{self.where}: {staging!r} is not a rebuild of {name!r}")
            meta = dataclasses.replace(staged, name=name, staging_for=None)
            await c.update_collection(staging, metadata={META_KEY: meta.to_json()})
            aliases = await self._aliases(c)
            create = m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=staging, alias_name=name))
            if name in aliases:  # the switch: one atomic alias operation
                await c.update_collection_aliases(
                    change_aliases_operations=[
                        m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=name)),
                        create,
                    ]
                )
                if aliases[name] != staging:
                    await c.delete_collection(aliases[name])
                return
            if await c.collection_exists(name):
                await c.delete_collection(name)  # a plain collection from before aliases: a brief gap
            await c.update_collection_aliases(change_aliases_operations=[create])

        await self._do(run)

    async def abort_rebuild(self, name: str) -> bool:
        async def run(c: Any) -> bool:
            stagings = await self._stagings(c, name)
            for staging in stagings:
                await c.delete_collection(staging)
            return bool(stagings)

        return await self._do(run)

    async def staging_of(self, name: str) -> str | None:
        async def run(c: Any) -> str | None:
            for staging in await self._stagings(c, name):
                staged = await self._meta_of(c, staging)
                if staged is not None and staged.staging_for == name:
                    return staging
            return None

        return await self._do(run)

    async def count(self, name: str) -> int:
        async def run(c: Any) -> int:
            return int((await c.count(name, exact=True)).count)

        return await self._do(run)

    # -- points ------------------------------------------------------------------------------
    async def upsert(self, name: str, points: list[PointRecord]) -> None:
        if not points:
            return
        from qdrant_client import models as m

        def vectors(p: PointRecord) -> dict[str, Any]:
            out: dict[str, Any] = {DENSE: p.vector.tolist()}
            if p.sparse is not None and p.sparse[0]:
                out[SPARSE] = m.SparseVector(indices=p.sparse[0], values=p.sparse[1])
            return out

        async def run(c: Any) -> None:
            await c.upsert(
                name,
                points=[m.PointStruct(id=p.id, vector=vectors(p), payload=p.payload) for p in points],
                wait=True,
            )

        await self._do(run)

    async def delete_ids(self, name: str, ids: list[str]) -> None:
        if not ids:
            return
        from qdrant_client import models as m

        async def run(c: Any) -> None:
            await c.delete(name, points_selector=m.PointIdsList(points=list(ids)), wait=True)

        await self._do(run)

    async def set_payload(self, name: str, ids: list[str], payload: dict[str, Any]) -> None:
        if not ids:
            return

        async def run(c: Any) -> None:
            await c.set_payload(name, payload=payload, points=list(ids), wait=True)

        await self._do(run)

    async def file_states(
        self, name: str, roots: list[str], under: list[str] | None = None
    ) -> dict[tuple[str, str], FileState]:
        from qdrant_client import models as m

        must = [m.FieldCondition(key="root", match=m.MatchAny(any=list(roots)))] if roots else []
        should = None
        if under is not None:  # the paths themselves, and what lies below them
            should = [m.FieldCondition(key="path", match=m.MatchAny(any=list(under) or ["\x00"]))]
            should += [m.FieldCondition(key="path", match=m.MatchPrefix(prefix=u + "/")) for u in under]
        flt = m.Filter(must=must or None, should=should) if must or should else None

        async def run(c: Any) -> dict[tuple[str, str], FileState]:
            states: dict[tuple[str, str], FileState] = {}
            offset = None
            while True:
                records, offset = await c.scroll(
                    name,
                    scroll_filter=flt,
                    limit=SCROLL_PAGE,
                    offset=offset,
                    with_payload=STATE_FIELDS,
                    with_vectors=False,
                )
                for rec in records:
                    accumulate_state(states, rec.id, rec.payload or {})
                if offset is None:
                    return states

        return await self._do(run)

    async def get_vectors(self, name: str, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}

        async def run(c: Any) -> dict[str, np.ndarray]:
            records = await c.retrieve(name, ids=list(ids), with_payload=False, with_vectors=[DENSE])
            return {str(rec.id): vec for rec in records if (vec := dense_of(rec.vector)) is not None}

        return await self._do(run)

    async def scroll(
        self, name: str, offset: Any = None, limit: int = 256, *, with_vectors: bool = False
    ) -> tuple[list[PointRecord], Any]:
        async def run(c: Any) -> tuple[list[PointRecord], Any]:
            records, nxt = await c.scroll(
                name, limit=limit, offset=offset, with_payload=True, with_vectors=bool(with_vectors)
            )
            return [PointRecord.from_record(rec.id, rec.payload, rec.vector) for rec in records], nxt

        return await self._do(run)

    async def defines_any(self, name: str, symbols: list[str]) -> bool:
        if not symbols:
            return False
        from qdrant_client import models as m

        flt = m.Filter(must=[m.FieldCondition(key="symbol", match=m.MatchAny(any=list(symbols)))])

        async def run(c: Any) -> bool:
            return int((await c.count(name, count_filter=flt, exact=True)).count) > 0

        return await self._do(run)

    async def distinct_paths(self, name: str) -> list[str]:
        async def run(c: Any) -> list[str]:
            resp = await c.facet(name, key="path", limit=1_000_000, exact=True)
            return sorted(str(h.value) for h in resp.hits)

        return await self._do(run)

    async def search_lane(self, name: str, lane: Lane) -> list[Hit]:
        from roocode_tui.core.stores.order import stable_top_async

        request = _query_request(lane, lane.limit)

        async def fetch(n: int) -> list[Hit]:
            async def run(c: Any) -> list[Hit]:
                resp = await c.query_points(
                    name,
                    query=request.query,
                    using=request.using,
                    limit=n,
                    query_filter=request.filter,
                    with_payload=True,
                )
                return [Hit.from_payload(p.id, p.score, p.payload or {}, None) for p in resp.points]

            return await self._do(run)

        return await stable_top_async(fetch, lane.limit)

    async def search_lanes(self, name: str, lanes: Sequence[Lane]) -> list[list[Hit]]:
        """The lanes in one request (Qdrant's batch query): one round trip to a server. A lane
        whose cut falls inside a run of tied scores is asked again alone (see order.stable_top)."""
        from roocode_tui.core.stores.order import EXTRA, ordered, settled

        requests = [_query_request(lane, lane.limit + EXTRA) for lane in lanes]

        async def run(c: Any) -> list[Any]:
            return list(await c.query_batch_points(name, requests=requests))

        answers = await self._do(run)
        out: list[list[Hit]] = []
        for lane, answer in zip(lanes, answers, strict=True):
            hits = ordered(Hit.from_payload(p.id, p.score, p.payload or {}, None) for p in answer.points)
            if settled(hits, lane.limit, lane.limit + EXTRA):
                out.append(hits[: lane.limit])
            else:
                out.append(await self.search_lane(name, lane))
        return out

    async def close(self) -> None:
        if self._client is not None:
            try:
                await self._client.close()
            finally:
                self._client = None


def _query_request(lane: Lane, limit: int) -> Any:
    """A lane as Qdrant's query request."""
    from qdrant_client import models as m

    if lane.vector is not None:
        query: Any = lane.vector.astype(np.float32).tolist()
    else:
        assert lane.sparse is not None, "a lane is dense or keyword"
        query = m.SparseVector(indices=lane.sparse[0], values=lane.sparse[1])
    return m.QueryRequest(
        query=query,
        using=DENSE if lane.vector is not None else SPARSE,
        limit=limit,
        filter=_qdrant_filter(lane.flt),
        with_payload=True,
    )


def _qdrant_filter(flt: SearchFilter | None) -> Any:
    if flt is None:
        return None
    from qdrant_client import models as m

    must: list[Any] = []
    if flt.root:
        must.append(m.FieldCondition(key="root", match=m.MatchValue(value=flt.root)))
    if flt.path_prefix:
        must.append(m.FieldCondition(key="path", match=m.MatchPrefix(prefix=flt.path_prefix)))
    if flt.paths is not None:
        must.append(m.FieldCondition(key="path", match=m.MatchAny(any=list(flt.paths) or ["\x00"])))
    if flt.languages:
        must.append(m.FieldCondition(key="language", match=m.MatchAny(any=list(flt.languages))))
    if flt.symbols is not None:
        must.append(m.FieldCondition(key="symbol", match=m.MatchAny(any=list(flt.symbols) or ["\x00"])))
    return m.Filter(must=must) if must else None
