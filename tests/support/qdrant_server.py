"""A Qdrant server for tests: Qdrant's REST API on loopback, over qdrant-client's local mode.

Each REST call that roocode-tui (``QdrantStore``, Roo Code's collections, snapshots) makes is
parsed into the request model of ``qdrant_client.http.models``, run on a local-mode client and
answered as a Qdrant server answers: ``{"result": ..., "status": "ok", "time": ...}``, and
errors with Qdrant's status codes and texts (404 ``Not found: Collection `x` doesn't exist!``,
409 ``Wrong input: Collection `x` already exists!``, 400 for bodies that do not parse, 401 as a
plain-text body when an API key is set and the ``api-key`` header is missing or wrong; ``/``
and the health routes are open, as on a real server). Snapshots are tar archives of the
collection's config and points, kept in memory; an uploaded one is restored into the named
collection.

Faults are injected per request through :class:`Faults`: a rule matches a method and a path
regex, lets ``skip`` matching requests through, then acts on the next ``times`` of them:
answer a status with a real server's (or its proxy's) error body, delay the answer, cut the
connection before or after the request is carried out, answer a truncated body, or take the
whole server down for some seconds (the listening socket closed, open connections cut, the
same port bound again later: a restart).

    with QdrantServer() as srv:
        srv.faults.answer(503, times=2, method="PUT", path=r"/points$")
        store = QdrantStore(StoreSettings(backend="qdrant", url=srv.url))
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
import socket
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from pydantic import BaseModel, TypeAdapter, ValidationError
from qdrant_client import QdrantClient
from qdrant_client import models as m

OPEN_PATHS = re.compile(r"^/(healthz|readyz.*|livez.*)?$")  # no API key needed, as on a real server
NAME = r"(?P<name>[^/]+)"
PEER_ID = 5723987343812379  # in snapshot names, as a real single-node server has one


# -- faults ------------------------------------------------------------------------------------------
@dataclass
class Rule:
    """One fault: ``action`` for the next ``times`` requests matching ``method`` and ``path``."""

    action: str  # status | delay | drop | lose_answer | garble | down
    method: str | None = None
    path: re.Pattern[str] | None = None
    times: int = 1
    skip: int = 0  # matching requests let through before the fault starts
    status: int = 503
    retry_after: float | None = None  # sent as Retry-After with a status
    seconds: float = 0.0  # delay, or how long the server stays down
    hits: int = 0  # requests this rule acted on

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (self.path is None or bool(self.path.search(path)))


class Faults:
    """What the server does wrong, rule by rule; nothing by default. Thread-safe."""

    def __init__(self) -> None:
        self.rules: list[Rule] = []
        self._lock = threading.Lock()

    def _add(self, action: str, method: str | None, path: str | None, times: int, skip: int, **kw: Any) -> Rule:
        rule = Rule(action, method.upper() if method else None, re.compile(path) if path else None, times, skip, **kw)
        with self._lock:
            self.rules.append(rule)
        return rule

    def answer(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        skip: int = 0,
        retry_after: float | None = None,
    ) -> Rule:
        """Answer ``status`` (with Retry-After when given) instead of carrying the request out."""
        return self._add("status", method, path, times, skip, status=status, retry_after=retry_after)

    def delay(
        self, seconds: float, *, times: int = 1, method: str | None = None, path: str | None = None, skip: int = 0
    ) -> Rule:
        """Wait ``seconds``, then carry the request out and answer (a client may have given up by then)."""
        return self._add("delay", method, path, times, skip, seconds=seconds)

    def drop(self, *, times: int = 1, method: str | None = None, path: str | None = None, skip: int = 0) -> Rule:
        """Close the connection without carrying the request out or answering."""
        return self._add("drop", method, path, times, skip)

    def lose_answer(self, *, times: int = 1, method: str | None = None, path: str | None = None, skip: int = 0) -> Rule:
        """Carry the request out, then close the connection instead of answering (the write happened)."""
        return self._add("lose_answer", method, path, times, skip)

    def garble(self, *, times: int = 1, method: str | None = None, path: str | None = None, skip: int = 0) -> Rule:
        """Carry the request out and answer 200 with the body cut in half (invalid JSON)."""
        return self._add("garble", method, path, times, skip)

    def down(self, seconds: float, *, method: str | None = None, path: str | None = None, skip: int = 0) -> Rule:
        """At the matching request the server goes away for ``seconds`` (that request is cut)."""
        return self._add("down", method, path, 1, skip, seconds=seconds)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    @property
    def pending(self) -> int:
        """Faults still to happen."""
        with self._lock:
            return sum(r.times for r in self.rules)

    def take(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.times <= 0 or not rule.matches(method, path):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    return None
                rule.times -= 1
                rule.hits += 1
                return rule
        return None


def _error_body(status: int, message: str | None = None, retry_after: int = 1) -> tuple[bytes, str]:
    """The body a Qdrant server (or the proxy before it, for 502/504) sends with ``status``."""
    if status in (502, 504):
        phrase = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}[status]
        html = f"<html>\r\n<head><title>{phrase}</title></head>\r\n<body>\r\n<center><h1>{phrase}</h1></center>\r\n"
        return (html + "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n").encode(), "text/html"
    if status in (401, 403):
        return (message or "Invalid API key or JWT").encode(), "text/plain; charset=utf-8"
    default = {
        400: "Bad request: the request was refused",
        404: "Not found: the requested resource does not exist",
        409: "Wrong input: already exists",
        429: "Rate limiting exceeded: Write rate limit exceeded: Operation requires 1 tokens but only 0 were "
        f"available. Retry after {retry_after}s",
        500: "Service internal error: the operation failed",
        503: "Shard temporarily unavailable: no active replica of shard 0",
    }
    text = message or default.get(status, f"Service internal error: HTTP {status}")
    return json.dumps({"status": {"error": text}, "time": 0.0}).encode(), "application/json"


class QdrantError(Exception):
    """An error answer: ``status`` with Qdrant's ``{"status": {"error": message}}`` body."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _missing(name: str) -> QdrantError:
    return QdrantError(404, f"Not found: Collection `{name}` doesn't exist!")


# -- the server ----------------------------------------------------------------------------------------
@dataclass
class Seen:
    """One request as it arrived: what was asked, when, and what the server did with it."""

    at: float
    method: str
    path: str
    fault: str | None
    status: int | None = None  # None: no answer was sent


@dataclass
class Outage:
    down_at: float
    up_at: float | None = None


class QdrantServer:
    """Start with ``with QdrantServer() as srv: ... srv.url``; ``srv.faults`` injects faults."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        version: str = "1.16.2",
        path: str | None = None,
        tls: tuple[str, str] | None = None,
    ):
        self.api_key = api_key
        self.tls = tls  # (certificate file, key file): HTTPS, as a server with tls settings answers
        self.version = version
        self.port = 0
        self.faults = Faults()
        self.peers: list[str] = []  # other nodes' hosts: /cluster answers as a cluster's node does
        self.seen: list[Seen] = []
        self.outages: list[Outage] = []
        self.up = threading.Event()  # set while the server accepts connections
        self.lock = threading.Lock()  # guards the local client (local mode is not thread-safe)
        self.local = QdrantClient(path=path) if path else QdrantClient(location=":memory:")
        self.snapshots: dict[str, dict[str, tuple[bytes, m.SnapshotDescription]]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._conns: set[socket.socket] = set()
        self._state = threading.Lock()
        self._timer: threading.Timer | None = None
        self._routes = _routes(self)

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.port, "start the server first"
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> QdrantServer:
        server = self

        class Handler(_Handler):
            srv = server

        class Server(ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # cut connections are what these tests are about

        deadline = time.monotonic() + 5
        while True:
            try:
                httpd = Server(("127.0.0.1", self.port), Handler)
                break
            except OSError:  # the port of a restart, not yet released
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.port = httpd.server_address[1]
        if self.tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        with self._state:
            self._httpd = httpd
        serve = threading.Thread(target=httpd.serve_forever, args=(0.05,), name=f"qdrant-{self.port}", daemon=True)
        serve.start()
        self.up.set()
        return self

    def stop(self) -> None:
        """Go away like a killed server: the port refuses connections and open ones are cut."""
        with self._state:
            httpd, self._httpd = self._httpd, None
            conns, self._conns = self._conns, set()
        self.up.clear()
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def go_down(self, seconds: float | None = None) -> None:
        """Stop now; with ``seconds``, start again on the same port after that long (a restart)."""
        self.outages.append(Outage(time.monotonic()))
        self.stop()
        if seconds is not None:
            self._timer = threading.Timer(seconds, self.come_back)
            self._timer.daemon = True
            self._timer.start()

    def come_back(self) -> None:
        if self.up.is_set():
            return
        self.start()
        if self.outages and self.outages[-1].up_at is None:
            self.outages[-1].up_at = time.monotonic()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.stop()
        with self.lock:
            self.local.close()

    def __enter__(self) -> QdrantServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        """The requests seen so far, those matching ``method`` and the ``path`` regex."""
        pattern = re.compile(path) if path else None
        return [
            s
            for s in list(self.seen)
            if (method is None or s.method == method) and (pattern is None or pattern.search(s.path))
        ]

    def point_ids(self, collection: str) -> list[str]:
        """Every point id of a collection (or alias), read past the HTTP layer."""
        out: list[str] = []
        offset = None
        with self.lock:
            while True:
                records, offset = self.local.scroll(collection, limit=1024, offset=offset, with_payload=False)
                out.extend(str(r.id) for r in records)
                if offset is None:
                    return out

    # -- what each route does -----------------------------------------------------------------------
    def _collection(self, name: str) -> str:
        """The collection a name stands for (an alias resolved); 404 when there is none."""
        aliases = {a.alias_name: a.collection_name for a in self.local.get_aliases().aliases}
        name = aliases.get(name, name)
        if not any(c.name == name for c in self.local.get_collections().collections):
            raise _missing(name)
        return name

    def handle(self, method: str, path: str, query: dict[str, list[str]], body: bytes, ctype: str) -> Any:
        for verb, pattern, action in self._routes:
            match = pattern.match(path)
            if match and verb == method:
                args = {k: unquote(v) for k, v in match.groupdict().items()}
                with self.lock:
                    return action(args, query, body, ctype)
        raise QdrantError(404, "")


def _parse(model: Any, body: bytes) -> Any:
    try:
        if isinstance(model, type) and issubclass(model, BaseModel):
            return model.model_validate_json(body or b"{}")
        return TypeAdapter(model).validate_json(body or b"{}")  # a union: PointsSelector, ...
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise QdrantError(400, f"Json deserialize error: {first.get('msg')} at {where or 'the body'}") from None


def _dump(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json", exclude_none=True)
    if isinstance(obj, list):
        return [_dump(o) for o in obj]
    return obj


def _routes(srv: QdrantServer) -> list[tuple[str, re.Pattern[str], Callable[..., Any]]]:
    q = srv.local
    Args = dict[str, str]
    Query = dict[str, list[str]]

    def info(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return _Raw({"title": "qdrant - vector search engine", "version": srv.version, "commit": "0" * 40})

    def health(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return _Raw("healthz check passed", "text/plain")

    def cluster(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        if srv.peers:  # a node of a cluster, as /cluster answers on one
            return {
                "status": "enabled",
                "peer_id": PEER_ID,
                "peers": {str(p): {"uri": f"http://{p}:6335/"} for p in srv.peers},
            }
        return {"status": "disabled"}

    def collections(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return q.get_collections()

    def aliases(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return q.get_aliases()

    def collection_aliases(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return q.get_collection_aliases(srv._collection(a["name"]))

    def change_aliases(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        ops = _parse(m.ChangeAliasesOperation, body).actions
        names = {c.name for c in q.get_collections().collections}
        for op in ops:  # checked first: Qdrant's own messages
            if isinstance(op, m.CreateAliasOperation):
                if op.create_alias.collection_name not in names:
                    raise _missing(op.create_alias.collection_name)
                if op.create_alias.alias_name in names:
                    raise QdrantError(409, f"Wrong input: Collection `{op.create_alias.alias_name}` already exists!")
            elif isinstance(op, m.RenameAliasOperation):
                old = op.rename_alias.old_alias_name
                if old not in {x.alias_name for x in q.get_aliases().aliases}:
                    raise QdrantError(404, f"Not found: Alias {old} does not exists!")
        return q.update_collection_aliases(change_aliases_operations=ops)

    def exists(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return m.CollectionExistence(exists=q.collection_exists(a["name"]))

    def get_collection(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return q.get_collection(srv._collection(a["name"]))

    def create_collection(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        name = a["name"]
        req = _parse(m.CreateCollection, body)
        if q.collection_exists(name):
            raise QdrantError(409, f"Wrong input: Collection `{name}` already exists!")
        return q.create_collection(
            name,
            vectors_config=req.vectors if req.vectors is not None else {},
            sparse_vectors_config=req.sparse_vectors,
            metadata=req.metadata,
            shard_number=req.shard_number,
            replication_factor=req.replication_factor,
            hnsw_config=req.hnsw_config,
        )

    def update_collection(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        name = srv._collection(a["name"])
        req = _parse(m.UpdateCollection, body)
        return q.update_collection(
            name, metadata=req.metadata, sparse_vectors_config=req.sparse_vectors, vectors_config=req.vectors
        )

    def delete_collection(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return q.delete_collection(a["name"])

    def create_index(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.CreateFieldIndex, body)
        return q.create_payload_index(srv._collection(a["name"]), req.field_name, req.field_schema)

    def upsert(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.PointInsertOperations, body)
        points = req.points if isinstance(req, m.PointsList) else req.batch
        return q.upsert(srv._collection(a["name"]), points=points)

    def retrieve(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.PointRequest, body)
        return q.retrieve(
            srv._collection(a["name"]),
            ids=req.ids,
            with_payload=req.with_payload if req.with_payload is not None else True,
            with_vectors=req.with_vector if req.with_vector is not None else False,
        )

    def delete_points(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        return q.delete(srv._collection(a["name"]), points_selector=_parse(m.PointsSelector, body))

    def set_payload(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.SetPayload, body)
        selector = req.points if req.points is not None else m.FilterSelector(filter=req.filter)
        return q.set_payload(srv._collection(a["name"]), payload=req.payload, points=selector, key=req.key)

    def batch(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.UpdateOperations, body)
        return q.batch_update_points(srv._collection(a["name"]), update_operations=req.operations)

    def scroll(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.ScrollRequest, body)
        records, offset = q.scroll(
            srv._collection(a["name"]),
            scroll_filter=req.filter,
            limit=req.limit or 10,
            offset=req.offset,
            order_by=req.order_by,
            with_payload=req.with_payload if req.with_payload is not None else True,
            with_vectors=req.with_vector if req.with_vector is not None else False,
        )
        return m.ScrollResult(points=records, next_page_offset=offset)

    def count(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.CountRequest, body)
        return q.count(srv._collection(a["name"]), count_filter=req.filter, exact=req.exact is not False)

    def query(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.QueryRequest, body)
        return q.query_points(
            srv._collection(a["name"]),
            query=req.query,
            using=req.using,
            prefetch=req.prefetch,
            query_filter=req.filter,
            search_params=req.params,
            limit=req.limit or 10,
            offset=req.offset,
            with_payload=req.with_payload if req.with_payload is not None else False,
            with_vectors=req.with_vector if req.with_vector is not None else False,
            score_threshold=req.score_threshold,
        )

    def query_batch(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.QueryRequestBatch, body)
        return q.query_batch_points(srv._collection(a["name"]), requests=req.searches)

    def facet(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        req = _parse(m.FacetRequest, body)
        return q.facet(
            srv._collection(a["name"]),
            key=req.key,
            facet_filter=req.filter,
            limit=req.limit or 10,
            exact=bool(req.exact),
        )

    # -- snapshots: a tar of the collection's config and points --------------------------------------
    def create_snapshot(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        name = srv._collection(a["name"])
        data = _archive(q, name)
        now = datetime.now(UTC)
        snap = f"{name}-{PEER_ID}-{now.strftime('%Y-%m-%d-%H-%M-%S')}.snapshot"
        described = m.SnapshotDescription(
            name=snap,
            creation_time=now.strftime("%Y-%m-%dT%H:%M:%S"),
            size=len(data),
            checksum=hashlib.sha256(data).hexdigest(),
        )
        srv.snapshots.setdefault(name, {})[snap] = (data, described)
        return described

    def list_snapshots(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        name = srv._collection(a["name"])
        return [d for _, d in srv.snapshots.get(name, {}).values()]

    def download_snapshot(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        name = srv._collection(a["name"])
        found = srv.snapshots.get(name, {}).get(a["snapshot"])
        if found is None:
            raise QdrantError(404, f"Not found: Snapshot {a['snapshot']} not found")
        return _Raw(found[0], "application/octet-stream")

    def delete_snapshot(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        name = srv._collection(a["name"])
        if srv.snapshots.get(name, {}).pop(a["snapshot"], None) is None:
            raise QdrantError(404, f"Not found: Snapshot {a['snapshot']} not found")
        return True

    def upload_snapshot(a: Args, qs: Query, body: bytes, ct: str) -> Any:
        data = _multipart_file(body, ct, "snapshot")
        _restore(q, a["name"], data)
        return True

    c = f"^/collections/{NAME}"
    table: list[tuple[str, str, Callable[..., Any]]] = [
        ("GET", r"^/$", info),
        ("GET", r"^/(healthz|readyz|livez)$", health),
        ("GET", r"^/cluster$", cluster),
        ("GET", r"^/collections$", collections),
        ("GET", r"^/aliases$", aliases),
        ("POST", r"^/collections/aliases$", change_aliases),
        ("GET", c + r"/aliases$", collection_aliases),
        ("GET", c + r"/exists$", exists),
        ("GET", c + r"$", get_collection),
        ("PUT", c + r"$", create_collection),
        ("PATCH", c + r"$", update_collection),
        ("DELETE", c + r"$", delete_collection),
        ("PUT", c + r"/index$", create_index),
        ("PUT", c + r"/points$", upsert),
        ("POST", c + r"/points$", retrieve),
        ("POST", c + r"/points/delete$", delete_points),
        ("POST", c + r"/points/payload$", set_payload),
        ("POST", c + r"/points/batch$", batch),
        ("POST", c + r"/points/scroll$", scroll),
        ("POST", c + r"/points/count$", count),
        ("POST", c + r"/points/query$", query),
        ("POST", c + r"/points/query/batch$", query_batch),
        ("POST", c + r"/facet$", facet),
        ("POST", c + r"/snapshots$", create_snapshot),
        ("GET", c + r"/snapshots$", list_snapshots),
        ("POST", c + r"/snapshots/upload$", upload_snapshot),
        ("GET", c + r"/snapshots/(?P<snapshot>[^/]+)$", download_snapshot),
        ("DELETE", c + r"/snapshots/(?P<snapshot>[^/]+)$", delete_snapshot),
    ]
    return [(verb, re.compile(pattern), action) for verb, pattern, action in table]


@dataclass
class _Raw:
    """An answer sent as it is, not wrapped in ``{"result": ...}``."""

    body: Any
    ctype: str = "application/json"


CONFIG = "collection.json"
POINTS = "points.jsonl"


def _archive(q: QdrantClient, name: str) -> bytes:
    """A snapshot of a collection: its config (as a create request) and its points, in a tar."""
    info = q.get_collection(name)
    params = info.config.params
    config = m.CreateCollection(
        vectors=params.vectors, sparse_vectors=params.sparse_vectors, metadata=info.config.metadata
    ).model_dump(mode="json", exclude_none=True)
    indexes = {field: str(schema.data_type.value) for field, schema in (info.payload_schema or {}).items()}
    lines: list[str] = []
    offset = None
    while True:
        records, offset = q.scroll(name, limit=1024, offset=offset, with_payload=True, with_vectors=True)
        lines.extend(json.dumps(_dump(r)) for r in records)
        if offset is None:
            break
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for arcname, raw in (
            (CONFIG, json.dumps({"create": config, "indexes": indexes}).encode()),
            (POINTS, "\n".join(lines).encode()),
        ):
            entry = tarfile.TarInfo(arcname)
            entry.size, entry.mtime = len(raw), int(time.time())
            tar.addfile(entry, io.BytesIO(raw))
    return buf.getvalue()


def _restore(q: QdrantClient, name: str, data: bytes) -> None:
    """Recover a snapshot into collection ``name``, replacing what was there (as Qdrant does)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            config_file, points_file = tar.extractfile(CONFIG), tar.extractfile(POINTS)
            if config_file is None or points_file is None:
                raise KeyError(CONFIG)
            config = json.loads(config_file.read())
            lines = points_file.read().decode().splitlines()
    except (tarfile.TarError, KeyError, ValueError) as exc:
        raise QdrantError(400, f"Bad request: Invalid snapshot file: {exc}") from None
    create = m.CreateCollection.model_validate(config["create"])
    q.delete_collection(name)
    q.create_collection(
        name,
        vectors_config=create.vectors if create.vectors is not None else {},
        sparse_vectors_config=create.sparse_vectors,
        metadata=create.metadata,
    )
    for field_name, schema in config.get("indexes", {}).items():
        q.create_payload_index(name, field_name, m.PayloadSchemaType(schema))
    points = [json.loads(line) for line in lines if line]
    for start in range(0, len(points), 512):
        q.upsert(
            name,
            points=[
                m.PointStruct(id=p["id"], vector=p.get("vector") or {}, payload=p.get("payload"))
                for p in points[start : start + 512]
            ],
        )


def _multipart_file(body: bytes, ctype: str, field_name: str) -> bytes:
    if not ctype.startswith("multipart/form-data"):
        raise QdrantError(400, "Bad request: Content type error: expected multipart/form-data")
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == field_name:
            return part.get_payload(decode=True) or b""
    raise QdrantError(400, f"Bad request: Multipart form has no field `{field_name}`")


class _Handler(BaseHTTPRequestHandler):
    srv: QdrantServer
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server: pooled connections go stale when it restarts
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.srv._state:
            self.srv._conns.add(self.connection)

    def finish(self) -> None:
        with self.srv._state:
            self.srv._conns.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _cut(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _serve(self) -> None:
        srv = self.srv
        started = time.perf_counter()
        path, _, raw_query = self.path.partition("?")
        body = self._read_body()
        rule = srv.faults.take(self.command, path)
        seen = Seen(time.monotonic(), self.command, path, rule.action if rule else None)
        srv.seen.append(seen)
        if rule is not None:
            if rule.action in ("drop", "down"):
                self._cut()
                if rule.action == "down":
                    srv.go_down(rule.seconds)
                return
            if rule.action == "status":
                wait = math.ceil(rule.retry_after) if rule.retry_after is not None else 1  # whole seconds, as Qdrant
                error, ctype = _error_body(rule.status, retry_after=wait)
                headers = {"Retry-After": str(wait)} if rule.retry_after is not None else {}
                seen.status = rule.status
                self._send(rule.status, error, ctype, headers)
                return
            if rule.action == "delay":
                time.sleep(rule.seconds)

        if srv.api_key is not None and not OPEN_PATHS.match(path):
            key = self.headers.get("api-key") or (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if not key:
                seen.status = 401
                self._send(401, *_error_body(401, "Must provide an API key or an Authorization bearer token"))
                return
            if key != srv.api_key:
                seen.status = 401
                self._send(401, *_error_body(401, "Invalid API key or JWT"))
                return

        status, ctype = 200, "application/json"
        try:
            result = srv.handle(self.command, path, parse_qs(raw_query), body, self.headers.get("Content-Type", ""))
            if isinstance(result, _Raw):
                ctype = result.ctype
                raw = result.body
                payload = raw if isinstance(raw, bytes) else (raw if isinstance(raw, str) else json.dumps(raw)).encode()
            else:
                took = round(time.perf_counter() - started, 6)
                payload = json.dumps({"result": _dump(result), "status": "ok", "time": took}).encode()
        except QdrantError as exc:
            status = exc.status
            payload, ctype = (b"", "text/plain") if not exc.message else _error_body(status, exc.message)
        except (ValueError, AssertionError, KeyError) as exc:  # local mode refused it: a bad request
            status = 400
            payload, ctype = _error_body(400, f"Wrong input: {exc}")
        except Exception as exc:
            status = 500
            payload, ctype = _error_body(500, f"Service internal error: {exc}")

        if rule is not None and rule.action == "lose_answer":
            self._cut()
            return
        if rule is not None and rule.action == "garble" and status == 200:
            payload = payload[: max(1, len(payload) // 2)]
        seen.status = status
        try:
            self._send(status, payload, ctype)
        except OSError:
            pass  # the client went away (it timed out): it will retry
