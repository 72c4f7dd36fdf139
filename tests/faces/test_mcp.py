"""The MCP face, driven by the official SDK's client: ``roocode-tui mcp`` as a subprocess over
stdio, and the engine's streamable HTTP endpoint (engine.mcp) over its TCP listener. Real
engines, a real embedding server on loopback, each test with its own HOME and runtime dir."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.cli import CLI
from support.embed_server import EmbedServer
from support.engines import Box

from roocode_tui.core.results import SearchResult
from roocode_tui.mcp import server as mcp_server

pytestmark = pytest.mark.timeout(300)

TOOLS = {"search", "list_collections", "read", "index_status", "refresh"}


@pytest.fixture
def box(tmp_path: Path, embed_server: EmbedServer) -> Iterator[Box]:
    b = Box(tmp_path, embed_server)
    try:
        yield b
    finally:
        b.stop_all()


@contextlib.asynccontextmanager
async def stdio_session(box: Box, *args: str, cwd: Path, env: dict[str, str] | None = None) -> AsyncIterator[Any]:
    """A client session with ``roocode-tui mcp ARGS`` started as an agent starts it."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=CLI[0], args=[*CLI[1:], "mcp", *args], env=env or box.env, cwd=cwd)
    with open(box.home / "mcp-stderr.log", "a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            yield session


async def call(session: Any, name: str, **arguments: Any) -> Any:
    return await session.call_tool(name, arguments)


def text_of(result: Any) -> str:
    return "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def index(box: Box, path: Path, *args: str) -> None:
    done = box.cli("index", str(path), "--json", *args)
    assert done.returncode == 0, done.stderr


def check_tools(tools: list[Any]) -> None:
    by_name = {t.name: t for t in tools}
    assert set(by_name) == TOOLS
    for tool in tools:
        assert len(tool.description or "") > 80, tool.name  # written for a model: what, when, fields
        assert tool.output_schema and tool.output_schema.get("type") == "object", tool.name
    search = by_name["search"].input_schema
    assert search["required"] == ["query"]
    assert set(search["properties"]) == {"query", "collection", "path", "lang", "limit", "mode", "group_by"}
    assert search["properties"]["limit"]["maximum"] == mcp_server.MAX_LIMIT
    assert all(search["properties"][k].get("description") for k in search["properties"])
    assert by_name["read"].input_schema["required"] == ["path"]
    assert by_name["refresh"].input_schema["required"] == ["collection"]
    assert {"hits", "collections", "mode"} <= set(by_name["search"].output_schema["properties"])
    assert by_name["search"].annotations.read_only_hint is True
    assert by_name["refresh"].annotations.read_only_hint is False


async def test_stdio_tools_search_read_status(box: Box, corpus: Path) -> None:
    box.env["ROOCODE_TUI_SEARCH__GROUPS"] = '{"everything": ["corpus", "handbook"]}'  # [search] groups
    index(box, corpus)  # "corpus", the workspace's own collection
    index(box, corpus / "docs", "-c", "handbook")
    async with stdio_session(box, cwd=corpus) as s:
        check_tools((await s.list_tools()).tools)

        # No collection named: the workspace's (two exist, the directory picks one).
        found = await call(s, "search", query="how do retries back off")
        assert not found.is_error, text_of(found)
        data = found.structured_content
        assert data["collections"] == ["corpus"] and data["hits"]
        hit = data["hits"][0]
        assert {"path", "root", "start_line", "end_line", "score", "heading", "text", "collection"} <= set(hit)
        assert hit["collection"] == "corpus" and hit["root"] == str(corpus)
        assert f"{hit['path']}:{hit['start_line']}-{hit['end_line']}" in text_of(found)

        # Filters run in the store; several collections make one ranking.
        docs = (await call(s, "search", query="backups", path="docs/", limit=3)).structured_content
        assert docs["hits"] and all(h["path"].startswith("docs/") for h in docs["hits"]) and len(docs["hits"]) <= 3
        py = (await call(s, "search", query="cache entries", lang="python")).structured_content
        assert py["hits"] and {h["language"] for h in py["hits"]} == {"python"}

        # Files as answers: where something lives, each file once with its best chunks.
        grouped = await call(s, "search", query="how do retries back off", group_by="file", limit=3)
        assert not grouped.is_error, text_of(grouped)
        files = grouped.structured_content["files"]
        assert 1 <= len(files) <= 3 and len({f["path"] for f in files}) == len(files)
        assert all(f["chunks"] and f["preview"] for f in files) and grouped.structured_content["hits"] == []
        assert f"[1] {files[0]['path']} (score " in text_of(grouped)
        cli_files = box.cli("search", "how do retries back off", "-c", "corpus", "--files", "-n", "3", "--json")
        assert cli_files.returncode == 0, cli_files.stderr + cli_files.stdout
        assert [f["path"] for f in json.loads(cli_files.stdout)["files"]] == [f["path"] for f in files]
        bad_group = await call(s, "search", query="x", group_by="folder")
        assert bad_group.is_error and "group_by must be 'file'" in text_of(bad_group)
        both = await call(s, "search", query="restore a backup", collection="corpus,handbook", limit=10)
        both = both.structured_content
        assert both["collections"] == ["corpus", "handbook"]
        assert {h["collection"] for h in both["hits"]} == {"corpus", "handbook"}
        scores = [h["score"] for h in both["hits"]]
        assert scores == sorted(scores, reverse=True)
        cli = box.cli("search", "restore a backup", "-c", "corpus,handbook", "-n", "10", "--json")
        assert cli.returncode == 0, cli.stderr
        assert [(h["collection"], h["path"]) for h in json.loads(cli.stdout)["results"]] == [
            (h["collection"], h["path"]) for h in both["hits"]
        ]
        named = box.cli("search", "restore a backup", "-c", "everything", "-n", "10", "--json")  # a group
        assert named.returncode == 0, named.stderr
        assert [(h["collection"], h["path"]) for h in json.loads(named.stdout)["results"]] == [
            (h["collection"], h["path"]) for h in both["hits"]
        ]
        printed = box.cli("search", "restore a backup", "-c", "handbook,corpus")
        assert "handbook: backups.md:" in printed.stdout and "results from handbook,corpus" in printed.stdout

        # A missing collection: one line the model can act on.
        missing = await call(s, "search", query="x", collection="nope")
        assert missing.is_error
        assert text_of(missing) == "collection 'nope' does not exist; available: corpus, handbook"
        bad_mode = await call(s, "search", query="x", mode="fuzzy")
        assert bad_mode.is_error and "dense, hybrid or keyword" in text_of(bad_mode)

        # Reads: a hit's lines; nothing outside the roots, nothing the index leaves out.
        got = await call(s, "read", path="src/storage/cache.py", start_line=2, end_line=4)
        assert not got.is_error, text_of(got)
        lines = (corpus / "src/storage/cache.py").read_text().splitlines()
        assert got.structured_content["text"] == "\n".join(lines[1:4])
        assert got.structured_content["total_lines"] == len(lines)
        absolute = await call(s, "read", path=str(corpus / "docs/faq.md"))
        assert absolute.structured_content["collection"] in ("corpus", "handbook")
        for outside in ("/etc/passwd", "../../etc/passwd", str(box.home / ".bashrc")):
            refused = await call(s, "read", path=outside)
            assert refused.is_error and text_of(refused).startswith("refused: ") and "\n" not in text_of(refused)
        secret = await call(s, "read", path="secrets.txt")  # under the root, left out by .rooignore
        assert secret.is_error and text_of(secret).startswith("refused: secrets.txt is not indexed")
        assert "do-not-index" not in text_of(secret)

        # What is indexed, how fresh; a refresh that finishes while the tool waits.
        listed = (await call(s, "list_collections")).structured_content
        assert listed["default"] == "corpus"
        rows = {c["name"]: c for c in listed["collections"]}
        assert set(rows) == {"corpus", "handbook"} and rows["corpus"]["points"] > 0
        assert rows["corpus"]["paths"] == [str(corpus)] and rows["corpus"]["watching"] is False
        assert "not watched" in rows["corpus"]["freshness"] and rows["corpus"]["last_indexed_at"]
        status = (await call(s, "index_status")).structured_content
        assert status["collection"] == "corpus" and status["points"] == rows["corpus"]["points"]
        assert status["pending"]["files_to_index"] == 0 and status["pending"]["chunks_to_embed"] == 0
        (corpus / "docs/new.md").write_text("# Tuning\n\nThe zebra parameter tunes the flux capacitor.\n")
        # what is pending: the new file, and what a refresh would embed for it (nothing written yet)
        pending = await call(s, "index_status", collection="corpus")
        assert pending.structured_content["pending"]["files_to_index"] == 1
        assert pending.structured_content["pending"]["chunks_to_embed"] == 1
        assert pending.structured_content["points"] == rows["corpus"]["points"]
        assert "plan: 1 files to index" in text_of(pending)
        refreshed = await call(s, "refresh", collection="corpus")
        assert not refreshed.is_error, text_of(refreshed)
        run = refreshed.structured_content
        assert run["done"] is True and run["run"]["phase"] == "done" and run["run"]["files_indexed"] == 1
        zebra = (await call(s, "search", query="zebra flux capacitor", limit=1)).structured_content
        assert zebra["hits"][0]["path"] == "docs/new.md"
        gone = await call(s, "index_status", collection="nope")
        assert gone.is_error and "available: corpus, handbook" in text_of(gone)

    # Read-only: refresh is refused, searches still answer.
    async with stdio_session(box, "--read-only", cwd=corpus) as s:
        refused = await call(s, "refresh", collection="corpus")
        assert refused.is_error and "read-only" in text_of(refused)
        assert not (await call(s, "search", query="retries")).is_error


async def test_stdio_on_a_fresh_machine(tmp_path: Path) -> None:
    """No config, no engine, nothing indexed: the server starts one with the defaults (bundled
    model, embedded store), answers, and nothing but the protocol reaches its stdout."""
    from support.cli import in_process_env

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in in_process_env().items() if k != "ROOCODE_TUI_ENGINE__ENABLED"}
    env.update({"HOME": str(home), "ROOCODE_TUI_ENGINE__IDLE_EXIT_S": "60"})
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_collections", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "search", "arguments": {"query": "x"}}},
    ]  # fmt: skip
    proc = subprocess.Popen(
        [*CLI, "mcp"], env=env, cwd=home, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        answers: dict[int, Any] = {}
        assert proc.stdin and proc.stdout
        for req in requests:
            proc.stdin.write((json.dumps(req) + "\n").encode())
            proc.stdin.flush()
            if "id" not in req:
                continue
            while req["id"] not in answers:
                line = proc.stdout.readline()
                assert line, proc.stderr.read().decode() if proc.stderr else ""
                msg = json.loads(line)  # every line on stdout is a protocol message
                assert msg.get("jsonrpc") == "2.0"
                if "id" in msg:
                    answers[msg["id"]] = msg
        listed = answers[2]["result"]
        assert listed["structuredContent"] == {"collections": [], "default": None}
        assert listed["content"][0]["text"].startswith("no collections yet")
        search = answers[3]["result"]
        assert search["isError"] is True
        assert search["content"][0]["text"].startswith("no collections yet: index something first")
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(timeout=30)
        stop = subprocess.run([*CLI, "serve", "--stop"], env=env, capture_output=True, text=True, timeout=60)
        assert stop.returncode == 0, stop.stderr
    assert proc.returncode == 0


async def test_engine_serves_mcp_over_http(box: Box, corpus: Path) -> None:
    """engine.mcp: the same tools at /mcp, on the TCP listener behind the engine's token."""
    import httpx2
    from mcp.client.session import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    box.env.update({"ROOCODE_TUI_ENGINE__LISTEN": "127.0.0.1:0", "ROOCODE_TUI_ENGINE__MCP": "true"})
    box.serve()
    status = box.status()
    assert status is not None and status["listen"]
    index(box, corpus / "docs", "-c", "handbook")
    url = f"http://{status['listen']}/mcp"
    token = Path(status["token_file"]).read_text().strip()

    async with httpx2.AsyncClient() as plain:  # no token: refused before the MCP app sees it
        refused = await plain.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert refused.status_code == 401

    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=120) as client,
        streamable_http_client(url, http_client=client) as (read, write),
        ClientSession(read, write) as s,
    ):
        await s.initialize()
        check_tools((await s.list_tools()).tools)
        found = await call(s, "search", query="restore a backup", collection="handbook", path="backups")
        assert not found.is_error, text_of(found)
        assert found.structured_content["hits"] and all(
            h["path"].startswith("backups") for h in found.structured_content["hits"]
        )
        unfiltered = await call(s, "search", query="restore a backup")  # the only collection
        assert unfiltered.structured_content["collections"] == ["handbook"]
        inside = await call(s, "read", path=str(corpus / "docs/backups.md"), end_line=3)
        assert not inside.is_error and inside.structured_content["end_line"] == 3
        outside = await call(s, "read", path=str(corpus / "src/storage/cache.py"))  # not under handbook's root
        assert outside.is_error and text_of(outside).startswith("refused: ")
        missing = await call(s, "index_status", collection="nope")
        assert missing.is_error and text_of(missing).endswith("available: handbook")

    # The engine's own socket serves it too (peer credentials checked, no token).
    transport = httpx2.AsyncHTTPTransport(uds=str(box.socket))
    async with (
        httpx2.AsyncClient(transport=transport, timeout=120) as client,
        streamable_http_client("http://engine/mcp", http_client=client) as (read, write),
        ClientSession(read, write) as s,
    ):
        await s.initialize()
        listed = (await call(s, "list_collections")).structured_content
        assert [c["name"] for c in listed["collections"]] == ["handbook"]


async def test_engine_mcp_is_off_unless_configured(box: Box, corpus: Path) -> None:
    import httpx2

    box.env["ROOCODE_TUI_ENGINE__LISTEN"] = "127.0.0.1:0"
    box.serve()
    status = box.status()
    assert status is not None
    token = Path(status["token_file"]).read_text().strip()
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
        answer = await client.post(f"http://{status['listen']}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert answer.status_code == 404


def test_print_config(box: Box, tmp_path: Path) -> None:
    """Each agent's JSON, with absolute paths to this install; Roo Code's starts a server that answers."""
    for agent in ("roo", "claude", "cursor"):
        out = box.cli("mcp", "--print-config", agent)
        assert out.returncode == 0, out.stderr
        entry = json.loads(out.stdout)["mcpServers"]["roocode-tui"]
        assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
        assert "mcp" in entry["args"]
        if agent == "claude":
            assert entry["type"] == "stdio"
        if agent == "cursor":
            assert entry["args"][-2:] == ["--workspace", "${workspaceFolder}"]
    config = tmp_path / "my.toml"
    config.write_text("[search]\nmode = 'dense'\n")
    out = box.cli("mcp", "--print-config", "roo", "--config", str(config), "--read-only")
    entry = json.loads(out.stdout)["mcpServers"]["roocode-tui"]
    assert entry["args"][-4:] == ["mcp", "--config", str(config), "--read-only"]
    # This box's runtime dir is not the one a trimmed environment falls back to: it is passed on.
    assert entry["env"] == {"XDG_RUNTIME_DIR": str(box.runtime)}
    assert "ROOCODE_TUI_EMBEDDER__BASE_URL" in out.stderr  # settings an agent would not pass on


async def test_printed_roo_config_as_an_agent_starts_it(box: Box, corpus: Path, tmp_path: Path) -> None:
    """Roo Code's client (the TypeScript SDK) starts a server with the config's command, args and
    env over a trimmed environment (HOME, PATH, ...), in the workspace folder: it finds the
    engine the user's commands use and searches the workspace's collection."""
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    config = tmp_path / "config.toml"
    config.write_text(
        f"[embedder]\nprovider = 'openai'\nbase_url = '{box.env['ROOCODE_TUI_EMBEDDER__BASE_URL']}'\n"
        f"model = '{box.env['ROOCODE_TUI_EMBEDDER__MODEL']}'\nbatch_size = 4\nmax_concurrency = 1\n"
        "[index]\nchunk_tokens = 60\nchunk_overlap_tokens = 6\n"
    )
    for key in [k for k in box.env if k.startswith("ROOCODE_TUI_EMBEDDER__") or k.startswith("ROOCODE_TUI_INDEX__")]:
        del box.env[key]
    index(box, corpus, "--config", str(config))
    printed = box.cli("mcp", "--print-config", "roo", "--config", str(config))
    entry = json.loads(printed.stdout)["mcpServers"]["roocode-tui"]
    trimmed = {k: box.env[k] for k in ("HOME", "PATH", "LOGNAME", "SHELL", "TERM", "USER") if k in box.env}
    params = StdioServerParameters(
        command=entry["command"], args=entry["args"], env={**trimmed, **entry.get("env", {})}, cwd=corpus
    )
    with open(box.home / "mcp-stderr.log", "a") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            found = await call(s, "search", query="how do retries back off")
            assert not found.is_error, text_of(found)
            assert found.structured_content["collections"] == ["corpus"] and found.structured_content["hits"]
    status = json.loads(box.cli("status", "--json", "--config", str(config)).stdout)
    # One engine: the one that indexed it (a second one could not have opened its embedded store).
    assert [r["collection"] for r in status["runs"]] == ["corpus"]


def test_a_trimmed_environment_finds_the_same_runtime_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without XDG_RUNTIME_DIR (an agent's trimmed environment), systemd's /run/user/UID, which
    is what the user's terminals have in it; /tmp/roocode-tui-UID only where there is none."""
    from roocode_tui.core.config import Settings
    from roocode_tui.engine import paths

    settings = Settings()
    monkeypatch.setattr(paths, "systemd_runtime_dir", lambda: str(tmp_path))
    assert paths.runtime_dir(settings) == Path(os.environ["XDG_RUNTIME_DIR"]) / "roocode-tui"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert paths.runtime_dir(settings) == tmp_path / "roocode-tui"
    monkeypatch.setattr(paths, "systemd_runtime_dir", lambda: None)
    assert paths.runtime_dir(settings) == Path(f"/tmp/roocode-tui-{os.getuid()}")


def test_search_answers_are_capped_for_a_context() -> None:
    """A hit's text is cut at HIT_CHARS and all hits together at SEARCH_CHARS; the rest are counted."""
    hit = {"path": "a.md", "root": "/r", "start_line": 1, "end_line": 9, "score": 0.5, "language": "markdown"}
    result = {
        "query": "q",
        "collection": "docs",
        "mode": "dense",
        "results": [{**hit, "text": "x" * 5_000}] + [{**hit, "text": "y" * 1_000} for _ in range(19)],
    }
    out = mcp_server._search_output(SearchResult.from_json(result))
    assert out.hits[0].truncated and len(out.hits[0].text) == mcp_server.HIT_CHARS
    assert sum(len(h.text) for h in out.hits) <= mcp_server.SEARCH_CHARS
    assert out.omitted == 20 - len(out.hits) > 0 and not out.hits[1].truncated
    assert f"[{out.omitted} more hits left out" in mcp_server._search_text(out)
