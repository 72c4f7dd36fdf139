"""The MCP face: search, list_collections, read, index_status and refresh as tools an agent calls.

Two ways in, one set of tools: ``roocode-tui mcp`` serves them over stdio (the agent starts it;
it talks to the engine like every other face, starting one when none runs), and an engine with
``engine.mcp = true`` serves them over streamable HTTP at ``/mcp`` on its socket and its TCP
listener (token auth there). The tools hold no search logic of their own: they call the
engine (engine/api.py) and shape its answers for a model, with caps so one call fits an
agent's context.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from roocode_tui import __version__
from roocode_tui.core.errors import EngineGoneError, RoocodeError, UsageError

if TYPE_CHECKING:
    from roocode_tui.core.results import SearchResult
    from roocode_tui.core.stores.base import CollectionInfo

SERVER_NAME = "roocode-tui"
MAX_LIMIT = 20  # hits one search returns at most
DEFAULT_LIMIT = 8
HIT_CHARS = 1_500  # characters of one hit's text at most
SEARCH_CHARS = 12_000  # characters of all hits' text together at most (about 3k tokens)
REFRESH_WAIT_S = 30.0  # refresh waits this long for a run to finish before answering

INSTRUCTIONS = """\
Semantic search over this machine's indexed code and documentation (roocode-tui). Use `search`
with a natural-language question or an identifier to find the relevant chunks (path, line
range, text); `read` to see more lines around a hit; `list_collections` to see what is indexed
and how fresh it is; `index_status` and `refresh` when results look stale."""


# -- what the tools return (their outputSchema) -----------------------------------------------
class SearchHit(BaseModel):
    collection: str = Field(description="the collection the chunk is from")
    path: str = Field(description="the file, relative to root")
    root: str = Field(description="the indexed directory the path is relative to")
    start_line: int = Field(description="first line of the chunk in the file (1-based)")
    end_line: int = Field(description="last line of the chunk (inclusive)")
    score: float = Field(description="cosine similarity of query and chunk, higher is closer (about 0.3..0.9)")
    heading: str = Field(description="the markdown heading or code definition the chunk is under, if any")
    language: str = Field(description="the file's language")
    text: str = Field(description="the chunk's text (cut at the end when truncated is true)")
    truncated: bool = Field(description="the text was cut to fit: read the lines for all of it")


class ChunkRef(BaseModel):
    start_line: int = Field(description="first line (1-based)")
    end_line: int = Field(description="last line (inclusive)")
    heading: str = Field(description="the markdown heading or code definition it is under, if any")


class FileHit(BaseModel):
    collection: str = Field(description="the collection the file is in")
    path: str = Field(description="the file, relative to root")
    root: str = Field(description="the indexed directory the path is relative to")
    language: str = Field(description="the file's language")
    score: float = Field(description="its best chunk's cosine similarity to the query")
    chunks: list[ChunkRef] = Field(description="its best chunks for the query, best first")
    preview: str = Field(description="the start of its best chunk (read the lines for more)")


class SearchOutput(BaseModel):
    query: str
    collections: list[str] = Field(description="the collections searched")
    mode: str = Field(description="dense, hybrid (dense + keywords) or keyword")
    hits: list[SearchHit] = Field(description="best first")
    note: str = Field(default="", description="a remark on the search (e.g. a filter that matched nothing)")
    omitted: int = Field(default=0, description="hits left out to keep the answer short")
    files: list[FileHit] | None = Field(
        default=None, description="with group_by='file': the best files, best first, each with its best chunks"
    )


class CollectionSummary(BaseModel):
    name: str
    kind: str = Field(
        description="its layout: roocode-tui (its own), roo-code (a coding agent's index in Roo Code's layout) or other"
    )
    owner: str = Field(
        default="",
        description="who wrote it: roocode-tui, roo-code, zoo-code, or roo-code|zoo-code? when it cannot be told",
    )
    points: int = Field(description="chunks stored")
    model: str | None = Field(description="the embedding model it was built with")
    paths: list[str] = Field(description="the directories or files it indexes")
    last_indexed_at: str | None = Field(description="when an index run last finished (ISO 8601, UTC)")
    watching: bool = Field(description="the engine keeps it in sync as files change")
    freshness: str = Field(description="how far it may lag behind its files")
    status: str


class CollectionsOutput(BaseModel):
    collections: list[CollectionSummary]
    default: str | None = Field(description="the collection search uses when none is named, for this workspace")


class ReadOutput(BaseModel):
    collection: str
    root: str
    path: str
    start_line: int
    end_line: int
    total_lines: int
    truncated: bool = Field(description="fewer lines than asked were returned (a read is capped): read on")
    text: str


class RunState(BaseModel):
    id: str
    phase: str = Field(description="discovering, embedding, ..., done, failed or cancelled")
    files_done: int
    files_total: int | None
    files_indexed: int
    files_failed: int
    message: str


class Pending(BaseModel):
    files_to_index: int = Field(description="files new or changed since the last run")
    files_gone: int = Field(description="files deleted since: their chunks would go")
    chunks_to_embed: int = Field(description="chunks a refresh would embed (after reusing stored vectors)")
    tokens_to_embed: int
    chunks_reused: int = Field(description="chunks of changed files whose vectors the store already holds")
    seconds: float | None = Field(description="the estimated time of a refresh at the embedder's measured rate")
    summary: str


class IndexStatusOutput(BaseModel):
    collection: str
    points: int
    last_indexed_at: str | None
    last_run: dict[str, Any] = Field(description="outcome of the last finished run")
    freshness: str
    watching: bool
    run: RunState | None = Field(description="the run writing it now, or the latest one")
    pending: Pending | None = Field(
        default=None,
        description="what a refresh would do now (a dry run of its files); null while a run goes on, or for "
        "an agent's collection",
    )


class RefreshOutput(BaseModel):
    collection: str
    done: bool = Field(description="the run finished within the wait; false: it goes on (see index_status)")
    run: RunState


# -- the tools --------------------------------------------------------------------------------
class EngineLink:
    """The engine a face's tools call: opened on first use, opened again if it went away."""

    def __init__(self, opener: Callable[[], Awaitable[Any]]):
        self._opener = opener
        self._engine: Any = None
        self._lock = asyncio.Lock()

    async def call(self, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        for attempt in (1, 2):
            engine = await self._get()
            try:
                return await fn(engine)
            except EngineGoneError:
                await self.reset()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _get(self) -> Any:
        async with self._lock:
            if self._engine is None:
                self._engine = await self._opener()
            return self._engine

    async def reset(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            with contextlib.suppress(Exception):
                await engine.aclose()


def build_server(settings: Any, link: EngineLink, *, cwd: str, started_by: str) -> Any:
    """The MCP server over the engine behind ``link``. ``cwd``: the workspace searches default to."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    read_only = settings.read_only
    server: Any = MCPServer(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level="WARNING",
        warn_on_duplicate_tools=False,
    )

    async def ask(fn: Callable[[Any], Awaitable[Any]]) -> Any:
        try:
            return await link.call(fn)
        except RoocodeError as exc:
            raise ToolError(str(exc)) from None

    def answer(text: str, data: BaseModel) -> Any:
        return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data.model_dump())

    def one_line_errors(fn: Any) -> Any:
        """A refusal or failure as the tool's own one-line error result (a raised ToolError
        reaches the model as "Error executing tool NAME: ...")."""

        @functools.wraps(fn)
        async def tool(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except (ToolError, RoocodeError) as exc:
                return CallToolResult(content=[TextContent(type="text", text=str(exc))], is_error=True)

        return tool

    @server.tool(
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
        description=(
            "Semantic search over indexed code and docs: finds the chunks that answer a question or define an "
            "identifier, by meaning rather than exact text. Use it before grepping or reading files when you "
            "do not know where something is. Each hit has the file path (relative to its root), the line "
            "range, a score (cosine similarity, higher is closer), the heading or definition it is under, and "
            "the chunk text (long texts are cut: call `read` for the full lines). Without `collection` it "
            "searches the collection of the current workspace. With group_by='file' it answers with files "
            "instead: the best files for the question, each with the line ranges of its best chunks and a "
            "short preview (use it to learn where something lives)."
        ),
    )
    @one_line_errors
    async def search(
        query: Annotated[str, Field(description="a question in plain words, or an identifier (function, class)")],
        collection: Annotated[
            str | None,
            Field(
                description="a collection name, or several separated by commas (one ranking), or a group's "
                "name from the config; default: this workspace's collection; see list_collections"
            ),
        ] = None,
        path: Annotated[
            str | None, Field(description="only files under this path prefix (e.g. 'src/') or matching a glob")
        ] = None,
        lang: Annotated[str | None, Field(description="only this language, e.g. 'python' (comma-separated)")] = None,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="hits to return (default 8)")] = DEFAULT_LIMIT,
        mode: Annotated[
            str | None,
            Field(
                description="'dense' (meaning), 'keyword' (exact words) or 'hybrid' (both for identifiers); "
                "default: the configured mode"
            ),
        ] = None,
        group_by: Annotated[
            str | None,
            Field(description="'file': rank files (where something lives), each with its best chunks; default: chunks"),
        ] = None,
    ) -> Annotated[CallToolResult, SearchOutput]:
        if mode is not None and mode not in ("dense", "hybrid", "keyword"):
            raise ToolError(f"mode must be dense, hybrid or keyword (got {mode!r})")
        if group_by is not None and group_by != "file":
            raise ToolError(f"group_by must be 'file' or left out (got {group_by!r})")
        if not query.strip():
            raise ToolError("query is empty: say what you are looking for")
        results = await ask(
            lambda e: e.search(
                [query], collection, limit=limit, path=path, lang=lang, mode=mode, cwd=cwd, group_by=group_by
            )
        )
        out = _search_output(results[0])
        return answer(_search_text(out), out)

    @server.tool(
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
        description=(
            "List the indexed collections: their names (for search's `collection`), size in chunks, embedding "
            "model, indexed paths, when they were last indexed, whether the engine watches them, and how "
            "fresh they are. `default` is the collection search uses here when none is named."
        ),
    )
    @one_line_errors
    async def list_collections() -> Annotated[CallToolResult, CollectionsOutput]:
        infos = await ask(lambda e: e.collections())
        default = None
        with contextlib.suppress(RoocodeError):
            default = await link.call(lambda e: e.resolve_collection(None, cwd))
        out = CollectionsOutput(collections=[_summary(i) for i in infos], default=default)
        return answer(_collections_text(out), out)

    @server.tool(
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
        description=(
            "Read lines of a file that is indexed (under a collection's paths and not ignored), e.g. to see "
            "the code around a search hit. `path` is a hit's path (relative to its root) or an absolute path. "
            "Lines are 1-based and inclusive; a read returns at most 400 lines (then truncated is true: read "
            "on from end_line + 1). Any other file is refused."
        ),
    )
    @one_line_errors
    async def read(
        path: Annotated[str, Field(description="the file: a search hit's path, or an absolute path")],
        start_line: Annotated[int, Field(ge=1, description="first line (1-based)")] = 1,
        end_line: Annotated[int | None, Field(ge=1, description="last line (inclusive); default: to the end")] = None,
    ) -> Annotated[CallToolResult, ReadOutput]:
        data = await ask(lambda e: e.read(path, start_line, end_line, cwd=cwd))
        out = ReadOutput(**data)
        head = f"{out.path} lines {out.start_line}-{out.end_line} of {out.total_lines} ({out.collection})"
        more = f"\n[truncated: read on from line {out.end_line + 1}]" if out.truncated else ""
        return answer(f"{head}\n{out.text}{more}", out)

    @server.tool(
        annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False),
        description=(
            "The index state of a collection: chunks stored, when it was last indexed and how that run went, "
            "whether it is watched (kept in sync), the index run going on now, if any, and what is pending: "
            "the files changed since and what a refresh would embed. Use it when search results look stale "
            "or after `refresh`."
        ),
    )
    @one_line_errors
    async def index_status(
        collection: Annotated[str | None, Field(description="the collection (default: this workspace's)")] = None,
    ) -> Annotated[CallToolResult, IndexStatusOutput]:
        async def status(e: Any) -> IndexStatusOutput:
            name = await e.resolve_collection(collection, cwd)
            info = await e.collection(name)
            runs = [r for r in await e.runs() if r.collection == name and r.kind != "plan"]
            active = next((r for r in runs if r.active), None)
            run = active or (runs[-1] if runs else None)
            meta = info.meta
            pending = None
            if meta is not None and active is None:
                pending = await _pending(e, name)
            return IndexStatusOutput(
                collection=name,
                points=info.points,
                last_indexed_at=meta.last_indexed_at if meta else None,
                last_run=meta.last_run if meta else {},
                freshness=info.freshness or "",
                watching=info.watcher is not None,
                run=_run_state(run) if run is not None else None,
                pending=pending,
            )

        async def _pending(e: Any, name: str) -> Pending | None:
            """A dry run of the collection's files (engine/runs.py, kind "plan"), waited for; None
            when one cannot run now (a run of it started meanwhile)."""
            try:
                snap = await e.start_run(
                    [], name, rebuild=False, schema="native", cwd=cwd, started_by="mcp index_status", dry_run=True
                )
            except UsageError:
                return None
            async for s in e.follow(snap.id):
                snap = s
            report = snap.report()
            if snap.phase != "done" or not report.get("dry_run"):
                return None
            return Pending(
                files_to_index=report["files_to_index"],
                files_gone=report["files_deleted"],
                chunks_to_embed=report["chunks_to_embed"],
                tokens_to_embed=report["tokens_to_embed"],
                chunks_reused=report["chunks_reused"] + report["chunks_reused_from_other_collections"],
                seconds=report["estimate"]["seconds"],
                summary=snap.message,
            )

        out = await ask(status)
        lines = [f"{out.collection}: {out.points:,} chunks; {out.freshness}"]
        if out.run is not None:
            lines.append(_run_line(out.run))
        if out.pending is not None:
            lines.append(out.pending.summary)
        return answer("\n".join(lines), out)

    @server.tool(
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
        description=(
            "Bring a collection up to date with its files: an incremental index run (only changed files are "
            "embedded again; deleted files leave the index). Waits up to 30 s for it to finish, then answers "
            "with its state (follow a longer run with index_status). Refused when roocode-tui is read-only."
        ),
    )
    @one_line_errors
    async def refresh(
        collection: Annotated[str, Field(description="the collection to update (see list_collections)")],
    ) -> Annotated[CallToolResult, RefreshOutput]:
        if read_only:
            raise ToolError("refresh is refused: roocode-tui is read-only here (read_only = true)")

        async def start(e: Any) -> Any:
            await e.collection(collection)  # a missing one: the one-line error with the available ones
            return await e.start_run([], collection, rebuild=False, schema="native", cwd=cwd, started_by=started_by)

        snap = await ask(start)
        if snap.active:

            async def finished(e: Any) -> Any:
                last = snap
                async for s in e.follow(snap.id):
                    last = s
                return last

            with contextlib.suppress(TimeoutError, RoocodeError):
                snap = await asyncio.wait_for(link.call(finished), REFRESH_WAIT_S)
        done = not snap.active
        out = RefreshOutput(collection=collection, done=done, run=_run_state(snap))
        suffix = "" if done else " (still running: ask index_status later)"
        return answer(_run_line(out.run) + suffix, out)

    return server


def _summary(info: CollectionInfo) -> CollectionSummary:
    meta = info.meta
    return CollectionSummary(
        name=info.name,
        kind=info.kind,
        owner=info.owner,
        points=info.points,
        model=meta.model if meta else None,
        paths=list(meta.paths) if meta else [],
        last_indexed_at=meta.last_indexed_at if meta else None,
        watching=info.watcher is not None,
        freshness=info.freshness or "",
        status=info.status or "ok",
    )


PREVIEW_CHARS = 300  # of a file's best chunk, in an answer grouped by file


def _file_output(result: SearchResult) -> SearchOutput:
    files = [
        FileHit(
            collection=f.collection or result.collection,
            path=f.path,
            root=f.root,
            language=f.language,
            score=f.score,
            chunks=[ChunkRef(start_line=c.start_line, end_line=c.end_line, heading=c.heading) for c in f.hits],
            preview=(f.hits[0].text if f.hits else "")[:PREVIEW_CHARS],
        )
        for f in result.files or []
    ]
    return SearchOutput(
        query=result.query,
        collections=[c for c in result.collection.split(",") if c],
        mode=result.mode,
        hits=[],
        note=result.note,
        files=files,
    )


def _search_output(result: SearchResult) -> SearchOutput:
    """A search's result for a model: its hits, each text cut to fit the answer's budget."""
    if result.files is not None:
        return _file_output(result)
    hits: list[SearchHit] = []
    budget = SEARCH_CHARS
    omitted = 0
    for h in result.hits:
        if budget <= 0:
            omitted += 1
            continue
        cap = min(HIT_CHARS, budget)
        cut = len(h.text) > cap
        text = h.text[:cap]
        budget -= len(text)
        hits.append(
            SearchHit(
                collection=h.collection or result.collection,
                path=h.path,
                root=h.root,
                start_line=h.start_line,
                end_line=h.end_line,
                score=h.score,
                heading=h.heading,
                language=h.language,
                text=text,
                truncated=cut,
            )
        )
    return SearchOutput(
        query=result.query,
        collections=[c for c in result.collection.split(",") if c],
        mode=result.mode,
        hits=hits,
        note=result.note,
        omitted=omitted,
    )


def _search_text(out: SearchOutput) -> str:
    where = ", ".join(out.collections)
    if out.files is not None:
        if not out.files:
            return f"no files in {where} for {out.query!r}" + (f" ({out.note})" if out.note else "")
        lines = [f"{len(out.files)} files in {where} for {out.query!r} ({out.mode})"]
        for i, f in enumerate(out.files, 1):
            origin = f"{f.collection}: " if len(out.collections) > 1 else ""
            ranges = ", ".join(
                f"{c.start_line}-{c.end_line}" + (f" {c.heading}" if c.heading else "") for c in f.chunks
            )
            lines.append(f"[{i}] {origin}{f.path} (score {f.score:.3f}): {ranges}")
        return "\n".join(lines)
    if not out.hits:
        return f"no hits in {where} for {out.query!r}" + (f" ({out.note})" if out.note else "")
    lines = [f"{len(out.hits)} hits in {where} for {out.query!r} ({out.mode})"]
    if out.note:
        lines.append(f"note: {out.note}")
    for i, h in enumerate(out.hits, 1):
        origin = f"{h.collection}: " if len(out.collections) > 1 else ""
        heading = f" · {h.heading}" if h.heading else ""
        lines.append(f"\n[{i}] {origin}{h.path}:{h.start_line}-{h.end_line} (score {h.score:.3f}){heading}")
        lines.append(h.text + ("\n[truncated: read the lines for the rest]" if h.truncated else ""))
    if out.omitted:
        lines.append(f"\n[{out.omitted} more hits left out to keep this short: narrow the search or lower limit]")
    return "\n".join(lines)


def _collections_text(out: CollectionsOutput) -> str:
    if not out.collections:
        return "no collections yet: nothing is indexed (roocode-tui index PATH)"
    lines = []
    for c in out.collections:
        mark = " (default here)" if c.name == out.default else ""
        paths = ", ".join(c.paths) if c.paths else "-"
        lines.append(f"{c.name}{mark}: {c.points:,} chunks, {c.kind}, model {c.model or '?'}, paths {paths}")
        lines.append(f"  {c.freshness}")
    return "\n".join(lines)


def _run_state(snap: Any) -> RunState:
    return RunState(
        id=snap.id,
        phase=snap.phase,
        files_done=snap.files_done,
        files_total=snap.files_total,
        files_indexed=snap.files_indexed,
        files_failed=snap.files_failed,
        message=snap.message,
    )


def _run_line(run: RunState) -> str:
    total = f"/{run.files_total}" if run.files_total is not None else ""
    line = f"run {run.id}: {run.phase}, {run.files_done}{total} files, {run.files_indexed} indexed"
    line += f", {run.files_failed} failed" if run.files_failed else ""
    return line + (f" ({run.message})" if run.message else "")


# -- the stdio face ---------------------------------------------------------------------------
async def serve_stdio(settings: Any, *, workspace: str | None = None) -> int:
    """``roocode-tui mcp``: the tools over stdin/stdout until the agent closes them."""
    from roocode_tui.engine.connect import open_engine

    if workspace and "${" in workspace:  # an agent that did not fill in its variable
        workspace = None
    cwd = os.path.abspath(os.path.expanduser(workspace)) if workspace else os.getcwd()
    link = EngineLink(lambda: open_engine(settings))
    server = build_server(settings, link, cwd=cwd, started_by=f"mcp pid {os.getpid()} ({cwd})")
    try:
        await server.run_stdio_async()
    finally:
        await link.reset()
    return 0


# -- the engine's streamable HTTP endpoint ----------------------------------------------------
def engine_app(engine: Any, settings: Any, hosts: list[str]) -> tuple[Any, Any]:
    """The streamable HTTP app at /mcp over the engine itself, and its session manager (the
    engine runs it for its lifetime). ``hosts``: the Host headers a request may carry (DNS
    rebinding protection; the TCP listener's token is checked before)."""
    from mcp.server.transport_security import TransportSecuritySettings

    async def opener() -> Any:
        return engine

    link = EngineLink(opener)
    server = build_server(settings, link, cwd=str(Path.home()), started_by="mcp over http")
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts],
    )
    app = server.streamable_http_app(
        streamable_http_path="/mcp", json_response=True, stateless_http=True, transport_security=security
    )
    return app, server.session_manager


# -- config snippets --------------------------------------------------------------------------
def client_config(agent: str, *, command: str, args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON an agent reads to start this server over stdio (Roo Code: .roo/mcp.json or its
    mcp_settings.json; Claude Code: .mcp.json; Cursor: .cursor/mcp.json)."""
    entry: dict[str, Any] = {"command": command, "args": args, **({"env": env} if env else {})}
    if agent == "claude":
        entry = {"type": "stdio", **entry}
    elif agent == "cursor":  # Cursor starts servers outside the project: name it (its ${workspaceFolder})
        entry = {**entry, "args": [*args, "--workspace", "${workspaceFolder}"]}
    return {"mcpServers": {SERVER_NAME: entry}}
