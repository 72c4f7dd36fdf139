"""The engine: one long-lived process per user that owns the stores, the embedder (one queue:
searches before ingest batches) and the index runs. The CLI (and later the TUI and the MCP
server) are its faces: clients of a small HTTP API on a private Unix socket.

    core/ (no Textual)  ->  engine/ (LocalEngine, the server, the client)  ->  cli/, tui/, mcp/

``LocalEngine`` and ``EngineClient`` are two implementations of one interface
(:class:`roocode_tui.engine.api.Engine`), so a face does not care whether the engine runs in
its own process (``--no-engine``, tests) or in the background.
"""
