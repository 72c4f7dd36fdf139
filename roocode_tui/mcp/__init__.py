"""The MCP face: the tools an agent calls (search, read, list_collections, index_status...),
over stdio (``roocode-tui mcp``) or streamable HTTP at the engine's /mcp (server.py)."""
