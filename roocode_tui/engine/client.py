"""A face's side of the engine: the client of a running engine (HTTP over its Unix socket), and
finding or starting one.

A face that finds no engine starts one the way gpg-agent and sccache start: ``roocode-tui
serve`` detached in its own session, logging to the state dir, and waits for its socket.
An engine of another version or with other settings is not used: the face says so in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from roocode_tui import __version__
from roocode_tui.core.errors import EngineError, EngineGoneError, RoocodeError, error_from
from roocode_tui.core.results import SearchResult
from roocode_tui.engine import paths, quick
from roocode_tui.engine.api import Engine, MonitorSnapshot, RunSnapshot
from roocode_tui.engine.quick import search_request

if TYPE_CHECKING:
    from roocode_tui.core.stores.base import CollectionInfo

START_TIMEOUT_S = 30.0  # an engine's first start imports the store and the HTTP stack
STOP_TIMEOUT_S = 60.0  # runs are cancelled cleanly and the store flushed before it exits
CONNECT_ERRORS = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


class EngineClient(Engine):
    def __init__(self, settings: Any, socket: str):
        self.settings = settings
        self.socket = socket
        self.pid: int | None = None
        self.serves = ""  # the store it serves (paths.served_store), once its status is read
        self.started_here = False  # this face started the engine
        self._http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=socket),
            base_url="http://engine",
            timeout=httpx.Timeout(None, connect=5.0),
        )

    # -- plumbing ----------------------------------------------------------------------------
    async def _call(self, method: str, url: str, payload: Any = None) -> Any:
        try:
            resp = await self._http.request(method, url, json=payload)
        except CONNECT_ERRORS:
            raise EngineGoneError(self._gone()) from None
        return _decode(resp)

    def _gone(self) -> str:
        who = f"pid {self.pid}" if self.pid else self.socket
        log = paths.log_path(self.settings)
        return f"the engine ({who}) stopped answering: see {log}; the next command starts a new one"

    # -- the interface -----------------------------------------------------------------------
    async def status(self) -> dict[str, Any]:
        return await self._call("GET", "/status")

    async def collections(self) -> list[CollectionInfo]:
        from roocode_tui.core.stores.base import CollectionInfo

        return [CollectionInfo.from_json(c) for c in (await self._call("GET", "/collections"))["collections"]]

    async def collection(self, name: str) -> CollectionInfo:
        from roocode_tui.core.stores.base import CollectionInfo

        return CollectionInfo.from_json(await self._call("GET", f"/collections/{_quote(name)}"))

    async def delete_collection(self, name: str) -> bool:
        return bool((await self._call("DELETE", f"/collections/{_quote(name)}"))["existed"])

    async def create_collection(self, name: str, paths: list[str], include: list[str], exclude: list[str]) -> None:
        payload = {"name": name, "paths": paths, "include": include, "exclude": exclude}
        await self._call("POST", "/collections", payload)

    async def resolve_collection(self, name: str | None, cwd: str) -> str:
        params = {"cwd": cwd, **({"name": name} if name else {})}
        return str((await self._call("GET", "/resolve?" + urlencode(params)))["collection"])

    async def snapshot(self, name: str, out: str | None = None) -> dict[str, Any]:
        query = f"?{urlencode({'out': out})}" if out else ""
        return await self._call("POST", f"/collections/{_quote(name)}/snapshots{query}")

    async def snapshots(self, name: str) -> list[dict[str, Any]]:
        return (await self._call("GET", f"/collections/{_quote(name)}/snapshots"))["snapshots"]

    async def restore(self, name: str, file: str) -> dict[str, Any]:
        return await self._call("POST", "/restore", {"name": name, "file": file})

    async def optimize(self, name: str) -> dict[str, Any]:
        return await self._call("POST", f"/collections/{_quote(name)}/optimize")

    async def abort_rebuild(self, name: str) -> bool:
        return bool((await self._call("POST", f"/collections/{_quote(name)}/rebuild/abort"))["aborted"])

    async def finish_rebuild(self, name: str) -> None:
        await self._call("POST", f"/collections/{_quote(name)}/rebuild/finish")

    async def agents_which(self, workspace: str) -> dict[str, Any]:
        return await self._call("GET", "/agents/which?" + urlencode({"workspace": workspace}))

    async def agent_index(self, workspace: str) -> dict[str, Any]:
        return await self._call("GET", "/agent-index?" + urlencode({"workspace": workspace}))

    async def resolve_package(
        self, name: str, ecosystem: str, *, python: str | None, node_modules: str | None, cwd: str
    ) -> dict[str, Any]:
        payload = {"name": name, "ecosystem": ecosystem, "python": python, "node_modules": node_modules, "cwd": cwd}
        return await self._call("POST", "/packages/resolve", payload)

    async def monitor(self, active: str | None, *, gpus_only: bool = False) -> MonitorSnapshot:
        params = {**({"active": active} if active else {}), **({"gpus_only": "1"} if gpus_only else {})}
        query = f"?{urlencode(params)}" if params else ""
        return MonitorSnapshot.from_json(await self._call("GET", "/monitor" + query))

    async def history(self, window: str, run_id: str | None = None, names: list[str] | None = None) -> dict[str, Any]:
        params = {"window": window, **({"run": run_id} if run_id else {})}
        if names is not None:
            params["series"] = ",".join(names)
        return await self._call("GET", "/history?" + urlencode(params))

    async def hold_ingest(self, seconds: float) -> None:
        await self._call("POST", "/hold", {"seconds": seconds})

    async def search(
        self,
        queries: list[str],
        collection: str | None,
        *,
        limit: int,
        path: str | None,
        lang: str | None,
        mode: str | None,
        cwd: str,
        ranking: bool | None = None,
        explain: bool = False,
        group_by: str | None = None,
        rerank: bool | None = None,
    ) -> list[SearchResult]:
        payload = search_request(
            queries,
            collection,
            limit=limit,
            path=path,
            lang=lang,
            mode=mode,
            cwd=cwd,
            ranking=ranking,
            explain=explain,
            group_by=group_by,
            rerank=rerank,
        )
        return [SearchResult.from_json(r) for r in (await self._call("POST", "/search", payload))["results"]]

    async def read(self, path: str, start_line: int, end_line: int | None, *, cwd: str) -> dict[str, Any]:
        payload = {"path": path, "start_line": start_line, "end_line": end_line, "cwd": cwd}
        return await self._call("POST", "/read", payload)

    async def start_run(
        self,
        paths: list[str],
        collection: str | None,
        *,
        rebuild: bool,
        schema: str,
        cwd: str,
        started_by: str,
        agent_cache: str | None = None,
        reuse: bool = True,
        dry_run: bool = False,
    ) -> RunSnapshot:
        payload = {
            "paths": paths,
            "collection": collection,
            "rebuild": rebuild,
            "schema": schema,
            "cwd": cwd,
            "started_by": started_by,
            "agent_cache": agent_cache,
            "reuse": reuse,
            "dry_run": dry_run,
        }
        return RunSnapshot.from_json(await self._call("POST", "/runs", payload))

    async def start_copy(
        self,
        name: str,
        to: str,
        *,
        url: str | None,
        path: str | None,
        new_name: str | None,
        started_by: str,
    ) -> RunSnapshot:
        payload = {"name": name, "to": to, "url": url, "path": path, "new_name": new_name, "started_by": started_by}
        return RunSnapshot.from_json(await self._call("POST", "/copies", payload))

    async def set_watch(self, name: str, on: bool) -> dict[str, Any]:
        return await self._call("POST", f"/collections/{_quote(name)}/watch", {"on": on})

    async def runs(self) -> list[RunSnapshot]:
        return [RunSnapshot.from_json(r) for r in (await self._call("GET", "/runs"))["runs"]]

    async def follow(self, run_id: str) -> AsyncIterator[RunSnapshot]:
        last: RunSnapshot | None = None
        try:
            async with self._http.stream("GET", f"/runs/{_quote(run_id)}/events") as resp:
                if resp.status_code != 200:
                    await resp.aread()
                    _decode(resp)
                async for line in resp.aiter_lines():
                    if line.strip():
                        last = RunSnapshot.from_json(json.loads(line))
                        yield last
        except CONNECT_ERRORS:
            raise EngineGoneError(self._gone()) from None
        if last is None or last.active:
            raise EngineGoneError(self._gone())  # the stream ended before the run did

    async def watch(self) -> AsyncIterator[dict[str, Any]]:
        """A line a second while the engine lives; EngineGoneError the moment it goes."""
        try:
            async with self._http.stream("GET", "/watch") as resp:
                async for line in resp.aiter_lines():
                    if line.strip():
                        yield json.loads(line)
        except CONNECT_ERRORS:
            raise EngineGoneError(self._gone()) from None
        raise EngineGoneError(self._gone())

    async def cancel(self, run_id: str) -> RunSnapshot:
        return RunSnapshot.from_json(await self._call("DELETE", f"/runs/{_quote(run_id)}"))

    async def release(self) -> bool:
        try:
            return bool((await self._call("POST", "/release"))["released"])
        except RoocodeError:
            return False

    async def shutdown(self) -> None:
        await self._call("POST", "/shutdown")

    async def aclose(self) -> None:
        await self._http.aclose()


def _quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="")


def _decode(resp: httpx.Response) -> Any:
    try:
        data = resp.json()
    except ValueError:
        raise EngineError(f"the engine answered HTTP {resp.status_code} without JSON") from None
    if resp.status_code >= 400:
        err = data.get("error") if isinstance(data, dict) else None
        if isinstance(err, dict):
            raise error_from(str(err.get("type")), str(err.get("message")))
        raise EngineError(f"the engine answered HTTP {resp.status_code}")
    return data


# -- finding or starting the engine ----------------------------------------------------------
async def running(settings: Any, *, check: bool = True) -> EngineClient | None:
    """A client of the engine for these settings when one answers; None when none runs.
    Raises EngineError for an engine that must not be used (another version or settings),
    unless ``check`` is false (to stop it)."""
    return await answering(settings, paths.socket_path(settings), check=check)


async def answering(settings: Any, sock: Path, *, check: bool = True) -> EngineClient | None:
    """A client of the engine at ``sock`` when one answers there; None when none does."""
    if not sock.exists():
        return None
    client = EngineClient(settings, str(sock))
    try:
        status = await client.status()
    except EngineGoneError:
        await client.aclose()
        return None  # a stale socket: the next engine replaces it
    except BaseException:
        await client.aclose()
        raise
    client.pid = status.get("pid")
    client.serves = str(status.get("serves") or "")
    problem = _mismatch(settings, status) if check else ""
    if problem:
        await client.aclose()
        raise EngineError(problem)
    return client


def _mismatch(settings: Any, status: dict[str, Any]) -> str:
    pid = status.get("pid")
    stop = "stop it with roocode-tui serve --stop, or run this command with --no-engine"
    if status.get("version") != __version__:
        return f"the running engine (pid {pid}) is roocode-tui {status.get('version')}, this is {__version__}: {stop}"
    if status.get("fingerprint") != paths.fingerprint(settings):
        theirs = status.get("config") or "no config file"
        ours = str(settings.config_path) if settings.config_path else "no config file"
        key = paths.first_difference(paths.compared(settings), status.get("settings") or {})
        differs = f"{key} differs" if key else "other settings or environment"
        same = f" ({differs})" if theirs == ours else f" (this command: {ours}; {differs})"
        return f"the running engine (pid {pid}) was started with {theirs}{same}: {stop}"
    return ""


async def others(settings: Any) -> list[dict[str, Any]]:
    """The status of every other engine of this user that answers (other stores' engines)."""
    mine = paths.socket_path(settings)
    found: list[dict[str, Any]] = []
    for sock in paths.sockets(settings):
        if sock == mine:
            continue
        try:
            client = await answering(settings, sock, check=False)
        except RoocodeError:
            continue
        if client is None:
            continue
        try:
            status = await client.status()
        except RoocodeError:
            continue
        finally:
            await client.aclose()
        found.append(
            {
                "pid": status.get("pid"),
                "version": status.get("version"),
                "socket": str(sock),
                "store": status.get("store") or {"backend": "?", "where": "?"},  # as its own status says
                "config": status.get("config"),
            }
        )
    return found


async def stop(settings: Any, client: EngineClient, timeout_s: float = STOP_TIMEOUT_S) -> None:
    """Ask the engine to stop and return once it has exited (its lock is free and its process
    gone): a command right after this one finds no engine."""
    pid = client.pid
    lock = Path(client.socket).with_suffix(".lock")  # beside its socket, as paths.lock_path puts it
    try:
        await client.shutdown()
    except EngineGoneError:
        pass  # it went away meanwhile
    finally:
        await client.aclose()
    deadline = time.monotonic() + timeout_s
    while paths.lock_holder(lock) is not None or (pid is not None and _alive(pid)):
        if time.monotonic() > deadline:
            raise EngineError(
                f"the engine (pid {pid}) did not exit within {timeout_s:.0f} s of being asked: {_log_tail(settings)}"
            )
        await asyncio.sleep(0.02)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie waiting for its parent does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return True  # no /proc: kill(0) said it is there


async def connect(settings: Any, *, start: bool = True) -> EngineClient:
    """The engine for these settings, started in the background when none runs (or started
    already, before this command loaded its settings: ``quick.start_engine``)."""
    early = quick.STARTED.pop(str(paths.socket_path(settings)), None)
    for other in quick.STARTED.values():  # for another socket: not this command's engine
        with contextlib.suppress(OSError):
            other.kill()
    quick.STARTED.clear()
    client = await running(settings)
    if client is not None:
        client.started_here = early is not None and client.pid == early.pid
        return client
    if not start:
        raise EngineError("no engine is running (roocode-tui serve starts one)")
    proc = early if early is not None else spawn(settings)
    # While the engine starts: what this side's first request imports (httpx's transport,
    # ~30 ms), so that the engine's first answer is not followed by this command's imports.
    import anyio  # noqa: F401
    import httpcore  # noqa: F401

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        client = await running(settings)
        if client is not None:
            client.started_here = True
            return client
        if proc.poll() is not None:
            # Lost a race with another face's engine? Then that one answers soon.
            client = await running(settings)
            if client is not None:
                return client
            raise EngineError(f"the engine did not start: {_log_tail(settings)}")
        await asyncio.sleep(0.005)  # a cold command waits on this: poll often (a file's existence)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    raise EngineError(f"the engine did not answer within {START_TIMEOUT_S:.0f} s: {_log_tail(settings)}")


def spawn(settings: Any) -> subprocess.Popen[bytes]:
    """``roocode-tui serve`` detached, output to the engine log (``quick.launch``)."""
    config = str(settings.config_path) if settings.config_path is not None else None
    return quick.launch(str(paths.log_path(settings)), config, settings.read_only)


def _log_tail(settings: Any) -> str:
    log = paths.log_path(settings)
    try:
        lines = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return f"no log at {log}"
    last = next((line for line in reversed(lines) if line.strip()), "")
    return f"{last} (log: {log})" if last else f"see {log}"


async def release_store(settings: Any) -> None:
    """Before a command opens the store in-process: ask a running engine to close it (an
    embedded collection can be open in one process at a time)."""
    try:
        client = await running(settings)
    except RoocodeError:
        return
    if client is not None:
        try:
            await client.release()
        finally:
            await client.aclose()
