"""The engine's server: HTTP/1.1 over a Unix socket, JSON in and out, progress as JSON lines.

Why this stack: Starlette is small and plain ASGI (and the ``mcp`` SDK mounts its streamable
HTTP transport in a Starlette app, so the MCP server can share this one); uvicorn serves a
socket we create ourselves (bound under a 0700 directory with mode 0600 before anyone can
connect), and its h11 protocol lets us check each connection's peer credentials
(SO_PEERCRED) before a byte is read. httpx speaks HTTP over the same socket on the face side,
and anyone can look inside with ``curl --unix-socket SOCKET http://engine/status``.

Routes::

    GET    /status                    engine, store, runs (running and recent)
    GET    /collections               every collection      GET /collections/NAME   one
    POST   /collections               create one            {"name", "paths", "include", "exclude"}
    DELETE /collections/NAME          delete it
    GET    /collections/NAME/snapshots   its snapshots      POST [?out=PATH]: write one
    POST   /collections/NAME/watch    {"on": true|false}: keep it in sync with its files (or stop)
    POST   /collections/NAME/optimize        build its search index now
    POST   /collections/NAME/rebuild/abort   drop its unfinished rebuild    .../finish: serve it as it is
    GET    /agent-index?workspace=PATH       Roo Code's collection of a workspace (`roo which --json`)
    GET    /agents/which?workspace=PATH      each coding agent's collection of it (`agents which --json`)
    POST   /packages/resolve          {"name", "ecosystem", "python", "node_modules", "cwd"}: an installed
                                      package's paths to index and its collection
    POST   /restore                   {"name", "file"}: a snapshot file into a new collection
    GET    /resolve?name=&cwd=        the collection a search would use
    GET    /monitor?active=NAME[&gpus_only=1]   the embedder's pipeline, the store's lines, the GPUs and
                                      vLLM's metrics (F3, the status bar's gauge)
    GET    /history?window=5m|1h|6h[&run=ID][&series=a,b]   the metric history (F3's charts), a run's
                                      rates (F2's)
    POST   /hold                      {"seconds"}: runs send no new batch for a while (a person types)
    POST   /search                    {"queries": [...], "collection", "limit", "path", "lang", "mode", "cwd",
                                       "ranking", "rerank", "explain", "group_by": "file"}
                                      ?out=json-line: the first result as `search --json` prints it
                                      (collection "a,b": one ranking of several collections)
    POST   /read                      {"path", "start_line", "end_line", "cwd"}: lines of an indexed file
    POST   /runs                      an index run {"paths", "collection", "rebuild", "schema", "cwd", "agent_cache",
                                      "reuse", "dry_run"}
    GET    /runs                      the runs              GET /runs/ID/events   its progress (JSON lines)
    DELETE /runs/ID                   cancel it
    POST   /copies                    start a copy run      {"name", "to", "url", "path", "new_name"}
    GET    /watch                     a line a second while the engine lives (a face that stays holds it open)
    POST   /release                   close the stores for an in-process command (refused while runs go)
    POST   /shutdown                  stop the engine (runs are cancelled cleanly)

With ``engine.listen`` set, the same routes are served on TCP too, where every request needs
``Authorization: Bearer TOKEN`` (the token in ``engine.token_file``; see :class:`TokenGate`).

An error is ``{"error": {"type", "message"}}`` with status 400 (bad request), 404 (no such
collection or run), 403 (read-only), 409 (busy) or 500; the face raises the same error class.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import gc
import hmac
import json
import logging
import os
import signal
import socket
import struct
import time
from pathlib import Path
from typing import Any

from roocode_tui.core.errors import CollectionNotFoundError, EngineError, RoocodeError, StoreBusyError, UsageError
from roocode_tui.engine import paths, quick
from roocode_tui.engine.local import LocalEngine
from roocode_tui.engine.quick import IDENTITY_HEADER

LOG = logging.getLogger("roocode_tui.engine")
SO_PEERCRED_FORMAT = "3i"  # struct ucred: pid, uid, gid
WATCH_BEAT_S = 1.0  # a line a second to a face watching the engine


def _status_of(exc: RoocodeError) -> int:
    if isinstance(exc, CollectionNotFoundError):
        return 404
    if isinstance(exc, UsageError) and str(exc).startswith("read-only"):
        return 403
    if isinstance(exc, StoreBusyError) or "already" in str(exc):
        return 409
    if isinstance(exc, UsageError):
        return 400
    return 500


def build_app(engine: LocalEngine, on_shutdown: Any, identity: str = "", extra_routes: Any = ()) -> Any:
    """The Starlette app over ``engine``; ``identity`` is quick.identity() of the engine's own
    inputs (a thin-path face sends its own and is turned back to the full path when they differ).
    ``extra_routes``: the MCP endpoint's, when engine.mcp is on."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    def error(exc: RoocodeError) -> JSONResponse:
        return JSONResponse({"error": {"type": type(exc).__name__, "message": str(exc)}}, status_code=_status_of(exc))

    async def body(request: Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            raise UsageError("the request body is not JSON") from None
        if not isinstance(data, dict):
            raise UsageError("the request body must be a JSON object")
        return data

    def handler(fn: Any) -> Any:
        async def wrapped(request: Request) -> Response:
            engine.last_activity = time.monotonic()
            try:
                return await fn(request)
            except RoocodeError as exc:
                return error(exc)
            except Exception as exc:
                LOG.exception("request %s %s failed", request.method, request.url.path)
                return error(RoocodeError(f"engine: unexpected {type(exc).__name__}: {exc}"))

        return wrapped

    async def status(request: Request) -> Response:
        return JSONResponse(await engine.status())

    async def collections(request: Request) -> Response:
        if request.method == "POST":
            data = await body(request)
            await engine.create_collection(
                str(data.get("name") or ""),
                [str(p) for p in data.get("paths") or []],
                [str(p) for p in data.get("include") or []],
                [str(p) for p in data.get("exclude") or []],
            )
            return JSONResponse({"created": data.get("name")}, status_code=201)
        return JSONResponse({"collections": [info.to_json() for info in await engine.collections()]})

    async def resolve(request: Request) -> Response:
        q = request.query_params
        return JSONResponse({"collection": await engine.resolve_collection(q.get("name"), q.get("cwd") or "")})

    async def snapshots(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "POST":
            out = request.query_params.get("out")
            return JSONResponse(await engine.snapshot(name, out), status_code=201)
        return JSONResponse({"snapshots": await engine.snapshots(name)})

    async def optimize(request: Request) -> Response:
        return JSONResponse(await engine.optimize(request.path_params["name"]))

    async def rebuild(request: Request) -> Response:
        name, step = request.path_params["name"], request.path_params["step"]
        if step == "abort":
            return JSONResponse({"collection": name, "aborted": await engine.abort_rebuild(name)})
        if step == "finish":
            await engine.finish_rebuild(name)
            return JSONResponse({"collection": name, "switched": True})
        raise UsageError(f"no rebuild step {step!r} (abort or finish)")

    async def agents_which(request: Request) -> Response:
        return JSONResponse(await engine.agents_which(request.query_params.get("workspace") or ""))

    async def agent_index(request: Request) -> Response:
        return JSONResponse(await engine.agent_index(request.query_params.get("workspace") or ""))

    async def packages(request: Request) -> Response:
        data = await body(request)
        python, node_modules = data.get("python"), data.get("node_modules")
        return JSONResponse(
            await engine.resolve_package(
                str(data.get("name") or ""),
                str(data.get("ecosystem") or "pypi"),
                python=None if python is None else str(python),
                node_modules=None if node_modules is None else str(node_modules),
                cwd=str(data.get("cwd") or Path.home()),
            )
        )

    async def restore(request: Request) -> Response:
        data = await body(request)
        return JSONResponse(await engine.restore(str(data.get("name") or ""), str(data.get("file") or "")))

    async def monitor(request: Request) -> Response:
        q = request.query_params
        return JSONResponse((await engine.monitor(q.get("active"), gpus_only=q.get("gpus_only") == "1")).to_json())

    async def history(request: Request) -> Response:
        q = request.query_params
        names = [n for n in q["series"].split(",") if n] if "series" in q else None
        return JSONResponse(await engine.history(q.get("window") or "5m", q.get("run") or None, names))

    async def hold(request: Request) -> Response:
        data = await body(request)
        await engine.hold_ingest(float(data.get("seconds") or 0))
        return JSONResponse({"held": True})

    async def collection(request: Request) -> Response:
        name = request.path_params["name"]
        if request.method == "DELETE":
            return JSONResponse({"deleted": name, "existed": await engine.delete_collection(name)})
        return JSONResponse((await engine.collection(name)).to_json())

    async def search(request: Request) -> Response:
        claimed = request.headers.get(IDENTITY_HEADER)
        if claimed is not None and claimed != identity:  # the thin path: its settings may differ
            return JSONResponse(
                {"error": {"type": "IdentityMismatch", "message": "other settings: take the full path"}},
                status_code=409,
            )
        data = await body(request)
        queries = data.get("queries")
        if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
            raise UsageError("queries must be a list of strings")
        results = await engine.search(
            queries,
            data.get("collection"),
            limit=int(data.get("limit") or 10),
            path=data.get("path"),
            lang=data.get("lang"),
            mode=data.get("mode"),
            cwd=str(data.get("cwd") or Path.home()),
            ranking=None if data.get("ranking") is None else bool(data.get("ranking")),
            explain=bool(data.get("explain")),
            group_by=data.get("group_by"),
            rerank=None if data.get("rerank") is None else bool(data.get("rerank")),
        )
        if request.query_params.get("out") == "json-line":  # what `search --json` prints, as it is
            text = json.dumps(results[0].to_json() if results else None, ensure_ascii=True) + "\n"
            return Response(text, media_type="application/json")
        return JSONResponse({"results": [r.to_json() for r in results]})

    async def read(request: Request) -> Response:
        data = await body(request)
        end = data.get("end_line")
        return JSONResponse(
            await engine.read(
                str(data.get("path") or ""),
                int(data.get("start_line") or 1),
                int(end) if end is not None else None,
                cwd=str(data.get("cwd") or Path.home()),
            )
        )

    async def runs(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"runs": [r.to_json() for r in await engine.runs()]})
        data = await body(request)
        run = await engine.start_run(
            [str(p) for p in data.get("paths") or []],
            data.get("collection"),
            rebuild=bool(data.get("rebuild")),
            schema=str(data.get("schema") or "native"),
            cwd=str(data.get("cwd") or Path.home()),
            started_by=str(data.get("started_by") or "a face"),
            agent_cache=None if data.get("agent_cache") is None else str(data["agent_cache"]),
            reuse=bool(data.get("reuse", True)),
            dry_run=bool(data.get("dry_run")),
        )
        return JSONResponse(run.to_json(), status_code=201)

    async def watch_collection(request: Request) -> Response:
        data = await body(request)
        return JSONResponse(await engine.set_watch(request.path_params["name"], bool(data.get("on", True))))

    async def copies(request: Request) -> Response:
        data = await body(request)
        run = await engine.start_copy(
            str(data.get("name") or ""),
            str(data.get("to") or ""),
            url=data.get("url"),
            path=data.get("path"),
            new_name=data.get("new_name"),
            started_by=str(data.get("started_by") or "a face"),
        )
        return JSONResponse(run.to_json(), status_code=201)

    async def run(request: Request) -> Response:
        snap = await engine.cancel(request.path_params["run_id"])
        return JSONResponse(snap.to_json())

    async def events(request: Request) -> Response:
        stream = engine.follow(request.path_params["run_id"])
        first = await anext(stream)  # an unknown run is a 404 here, before the stream starts

        async def lines() -> Any:
            yield json.dumps(first.to_json()) + "\n"
            async for snap in stream:
                yield json.dumps(snap.to_json()) + "\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def watch(request: Request) -> Response:
        """A face that stays (the TUI) holds this stream open: it learns at once when the engine
        goes (the stream ends), and the engine counts it as a face (no idle exit meanwhile)."""

        async def beats() -> Any:
            engine.followers += 1
            try:
                while not engine.stopping:
                    beat = {
                        "pid": engine.pid,
                        "runs": len(engine.active_runs()),
                        "index": engine.indexer.beat(),
                        "watch": engine.watchers.beat(),
                    }
                    yield json.dumps(beat) + "\n"
                    await asyncio.sleep(WATCH_BEAT_S)
            finally:
                engine.followers -= 1
                engine.last_activity = time.monotonic()

        return StreamingResponse(beats(), media_type="application/x-ndjson")

    async def release(request: Request) -> Response:
        if not await engine.release():
            raise StoreBusyError("the engine is running an index run; its store stays open until it ends")
        return JSONResponse({"released": True})

    async def shutdown(request: Request) -> Response:
        on_shutdown()
        return JSONResponse({"stopping": True, "pid": engine.pid})

    routes = [
        Route("/status", handler(status)),
        Route("/collections", handler(collections), methods=["GET", "POST"]),
        Route("/collections/{name}", handler(collection), methods=["GET", "DELETE"]),
        Route("/collections/{name}/snapshots", handler(snapshots), methods=["GET", "POST"]),
        Route("/collections/{name}/watch", handler(watch_collection), methods=["POST"]),
        Route("/collections/{name}/optimize", handler(optimize), methods=["POST"]),
        Route("/collections/{name}/rebuild/{step}", handler(rebuild), methods=["POST"]),
        Route("/agent-index", handler(agent_index)),
        Route("/agents/which", handler(agents_which)),
        Route("/packages/resolve", handler(packages), methods=["POST"]),
        Route("/resolve", handler(resolve)),
        Route("/restore", handler(restore), methods=["POST"]),
        Route("/monitor", handler(monitor)),
        Route("/history", handler(history)),
        Route("/hold", handler(hold), methods=["POST"]),
        Route("/search", handler(search), methods=["POST"]),
        Route("/read", handler(read), methods=["POST"]),
        Route("/runs", handler(runs), methods=["GET", "POST"]),
        Route("/runs/{run_id}", handler(run), methods=["DELETE"]),
        Route("/copies", handler(copies), methods=["POST"]),
        Route("/runs/{run_id}/events", handler(events)),
        Route("/watch", handler(watch)),
        Route("/release", handler(release), methods=["POST"]),
        Route("/shutdown", handler(shutdown), methods=["POST"]),
        *extra_routes,
    ]
    return Starlette(routes=routes)


class Activity:
    """Every request keeps the engine from its idle exit (the MCP endpoint's too)."""

    def __init__(self, app: Any, engine: LocalEngine):
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.engine.last_activity = time.monotonic()
        await self.app(scope, receive, send)


class TokenGate:
    """Requests that came over TCP (``engine.listen``) need the engine's token; the Unix socket's
    connections are checked by their peer credentials instead. uvicorn gives a Unix-socket
    request the ``server`` (path, None); anything else must show the token."""

    def __init__(self, app: Any, token: str):
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        server = scope.get("server")
        unix = isinstance(server, tuple | list) and len(server) == 2 and server[1] is None
        if scope["type"] == "http" and not unix:
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                client = scope.get("client") or ("?", 0)
                LOG.warning("refused a TCP request from %s:%s without the engine's token", *client)
                body = json.dumps(
                    {
                        "error": {
                            "type": "EngineError",
                            "message": "this engine's TCP listener needs its token: "
                            "Authorization: Bearer <the token in engine.token_file>",
                        }
                    }
                ).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 401, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def _listen(address: str) -> socket.socket:
    """The TCP listener at ``HOST:PORT`` (engine.listen)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    try:
        sock = socket.create_server((host, int(port)), family=socket.AF_INET6 if ":" in host else socket.AF_INET)
    except OSError as exc:
        raise EngineError(f"engine.listen: cannot listen on {address}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def _quiet_server(config: Any) -> Any:
    """uvicorn's server, looking at its state once a second instead of ten times: an idle
    engine then costs 0.4% of a core instead of 1.4% (it refreshes the Date header each second
    either way, and a stop is seen within a second)."""
    import uvicorn

    class QuietServer(uvicorn.Server):
        async def main_loop(self) -> None:
            counter = 0
            should_exit = await self.on_tick(counter)
            while not should_exit:
                counter = (counter + 10) % 864000  # on_tick's once-a-second work runs every tick
                await asyncio.sleep(1.0)
                should_exit = await self.on_tick(counter)

    return QuietServer(config)


def _peer_checked_protocol() -> type:
    """uvicorn's h11 protocol, closing any connection whose peer is not this user."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class PeerCheckedH11(H11Protocol):
        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            sock = transport.get_extra_info("socket")
            if sock is None or sock.family != socket.AF_UNIX:
                return
            creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize(SO_PEERCRED_FORMAT))
            pid, uid, _gid = struct.unpack(SO_PEERCRED_FORMAT, creds)
            if uid != os.getuid():
                LOG.warning("refused a connection from pid %d, uid %d (not this user)", pid, uid)
                transport.abort()

    return PeerCheckedH11


class EngineLock:
    """One engine per socket: an exclusive flock held for the engine's life, its pid inside."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = paths.read_pid(fd)
            os.close(fd)
            raise EngineError(f"an engine is running already (pid {holder or '?'}, lock {self.path})") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _bind(path: Path) -> socket.socket:
    """A listening socket at ``path``, 0600 from the start (umask), a stale one replaced."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # we hold the lock: whatever socket is there belongs to a dead engine
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(settings: Any, *, announce: Any = None, mcp: Any = None, for_index: bool = False) -> int:
    """Run the engine until it is stopped (SIGTERM/SIGINT, ``serve --stop``) or idle for
    ``engine.idle_exit_s``. Returns the exit code. ``mcp(engine, settings, hosts)``: the MCP
    face's app and its session manager, served at /mcp when ``engine.mcp`` is on (the face
    hands it in: the engine imports no face). ``for_index``: started by an ``index`` command,
    whose run comes first: what the run imports on its way to its first batch is loaded before
    the engine listens, in this one thread, instead of by the run's reader thread with the
    embedding server idle and the event loop waiting for the interpreter (bench/NOTES.md)."""
    sock_path = paths.socket_path(settings)
    paths.private_dir(sock_path.parent)
    lock = EngineLock(paths.lock_path(settings))
    lock.acquire()
    engine = LocalEngine(settings)
    stop = asyncio.Event()
    if for_index:
        from roocode_tui.core.backends import load_index_path

        load_index_path()
    try:
        async with contextlib.AsyncExitStack() as stack:
            sockets = [_bind(sock_path)]
            if settings.engine.listen:
                tcp = _listen(settings.engine.listen)
                sockets.append(tcp)
                host, port = tcp.getsockname()[:2]
                engine.listening = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            mcp_routes: Any = ()
            if settings.engine.mcp and mcp is not None:  # the MCP tools over streamable HTTP at /mcp
                mcp_app, manager = mcp(engine, settings, _mcp_hosts(engine.listening))
                await stack.enter_async_context(manager.run())
                mcp_routes = mcp_app.routes
            identity = quick.identity(str(settings.config_path) if settings.config_path else None)
            app = Activity(build_app(engine, stop.set, identity, mcp_routes), engine)
            return await _serve(settings, engine, app, sockets, stop, announce, sock_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            sock_path.unlink()
        lock.release()
        LOG.info("engine %d stopped", engine.pid)


def _mcp_hosts(listening: str | None) -> list[str]:
    """The Host headers the MCP endpoint answers: the socket's (any name, no port) and loopback
    names with any port, and the TCP listener's own address (a request there shows the token)."""
    hosts = ["engine", "localhost", "localhost:*", "127.0.0.1:*", "[::1]:*"]
    if listening:
        hosts.append(listening)
    return hosts


async def _serve(
    settings: Any,
    engine: LocalEngine,
    app: Any,
    sockets: list[Any],
    stop: asyncio.Event,
    announce: Any,
    sock_path: Path,
) -> int:
    """Serve ``app`` on ``sockets`` until a stop or the idle exit."""
    import uvicorn

    if engine.listening:
        app = TokenGate(app, paths.engine_token(settings))
        host = engine.listening.rsplit(":", 1)[0].strip("[]")
        LOG.info("engine %d also listening on %s (token: %s)", engine.pid, engine.listening, paths.token_path(settings))
        if not _is_loopback(host):
            LOG.warning(
                "engine.listen %s is not a loopback address: whoever reaches it with the token may use the engine",
                engine.listening,
            )
    config = uvicorn.Config(
        app,
        http=_peer_checked_protocol(),
        ws="none",  # no route speaks WebSocket (MCP's transport is streamable HTTP): not imported
        lifespan="off",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = _quiet_server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    LOG.info("engine %d listening on %s", engine.pid, sock_path)
    if announce is not None:
        announce(engine, sock_path)
    serving = asyncio.create_task(server.serve(sockets=sockets))
    if not gc.isenabled():  # off for the engine's start (cli/commands.py)
        gc.freeze()  # what the start made lives as long as the engine: no collection walks it again
        gc.enable()
    watching = asyncio.create_task(engine.start_watching())  # catch-up runs, then the watches
    engine.start_sampling()  # the metric history starts with the engine, whoever looks later
    idle = settings.engine.idle_exit_s
    while not stop.is_set() and not serving.done():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        if idle and not engine.busy() and time.monotonic() - engine.last_activity > idle:
            LOG.info("engine %d idle for %.0f s: exiting", engine.pid, idle)
            break
        await engine.release_when_idle()
    engine.stopping = True  # watch streams end: faces learn at once
    watching.cancel()
    await engine.aclose()  # cancelled runs finish the file they are writing
    server.should_exit = True
    with contextlib.suppress(BaseException):
        await asyncio.wait_for(serving, timeout=10)
    return 0
