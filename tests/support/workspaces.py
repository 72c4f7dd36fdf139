"""The coding agents' workspaces: a shop's files (a guide, a TypeScript app, a Python helper),
an index run with `--schema roo` or `--schema kilo` (and the others) into a Qdrant store
(qdrant-client's local mode), Kilo Code's configuration, and a collection read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from roocode_tui.core.backends import prepare_indexer
from roocode_tui.core.config import EmbedderSettings, Settings, StoreSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder
from roocode_tui.core.stores.qdrant import QdrantStore

from .embed_server import EmbedServer

GUIDE = (
    "# Guide\n\nIntro paragraph that is long enough to pass the fifty character minimum.\n\n"
    "## Install\n\nRun the installer and follow the prompts on the screen carefully.\n\n## Tiny\n\nok\n"
)


APP_TS = """import { Cart } from "./cart"

// Sum the prices of every line of the cart, then apply the member discount when the
// customer has one. Prices are in cents so that nothing is lost to rounding.
export function total(cart: Cart): number {
  let sum = 0
  for (const line of cart.lines) {
    sum += line.price * line.quantity
  }
  return cart.member ? Math.round(sum * 0.95) : sum
}
"""


def workspace_files(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "docs" / "guide.md").write_text(GUIDE)
    (root / "src" / "app.ts").write_text(APP_TS)
    (root / "notes.txt").write_text("a text file: Roo Code's scanner does not index .txt files at all\n")
    return root


def read_back(data: Path, name: str):
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(data))
    records, _ = client.scroll(name, limit=100, with_payload=True, with_vectors=True)
    return client, {str(r.id): r for r in records}


async def run_roo_index(data: Path, srv: EmbedServer, workspace: Path, schema: str = "roo", **kw):
    """An index run of a Roo Code layout schema (``roo``, or ``zoo``: Zoo Code keeps the layout)."""
    return await run_index(data, srv, workspace, schema, **kw)


UTIL_PY = '''def parse_price(text):
    """Turn "12.50" into cents; raise ValueError on anything else."""
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int(cents or 0)
'''


def kilo_config(home: Path, srv: EmbedServer, **indexing: Any) -> Path:
    path = home / ".config/kilo/kilo.jsonc"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"enabled": True, "provider": "openai-compatible", "model": srv.model, "dimension": 64}
    body |= {"vectorStore": "qdrant", **indexing}
    path.write_text("// Kilo Code's settings\n" + json.dumps({"indexing": body}, indent=2) + "\n")
    return path


def shop(root: Path) -> Path:
    for rel, text in {"src/app.ts": APP_TS, "src/util.py": UTIL_PY, "docs/guide.md": GUIDE}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


async def run_index(data: Path, srv: EmbedServer, workspace: Path, schema: str = "kilo", **kw: Any):
    """An index run of an agent's schema into qdrant-client's local mode at ``data``."""
    settings = Settings(
        embedder=EmbedderSettings(provider="openai", base_url=srv.base_url, model=srv.model),
        store=StoreSettings(backend="qdrant", path=data),
    )
    store = QdrantStore(settings.store)
    embedder = OpenAIEmbedder(settings.embedder)
    try:
        indexer = await prepare_indexer(settings, store, embedder, [str(workspace)], None, schema=schema, **kw)
        return await indexer.run()
    finally:
        await embedder.aclose()
        await store.close()
