"""A collection in Roo Code's exact format, made directly with qdrant-client the way Roo Code
makes it (src/services/code-index/vector-store/qdrant-client.ts and processors/scanner.ts).

Ids and hashes are written out from Roo Code's formulas here, not taken from roocode-tui.
"""

from __future__ import annotations

import hashlib
import uuid
import warnings
from pathlib import Path

from .embed_server import hash_embed

ROO_NAMESPACE = uuid.UUID("f47ac10b-58cc-4372-a567-0e02b2c3d479")
WORKSPACE = "/home/dev/projects/shop"

# (filePath, startLine, endLine, codeChunk)
BLOCKS = [
    (
        "src/cart/checkout.ts",
        1,
        6,
        "export function checkout(cart: Cart) {\n  // charge the card, then email a receipt\n"
        "  return pay(cart.total)\n}",
    ),
    (
        "src/cart/discount.ts",
        3,
        9,
        "export function applyDiscount(price: number, code: string) {\n"
        "  // coupon codes take a percentage off\n  return price * 0.9\n}",
    ),
    ("docs/refunds.md", 1, 5, "# Refunds\n\nA refund goes back to the card that paid, within five working days."),
]


def roo_name(workspace: str) -> str:
    return "ws-" + hashlib.sha256(workspace.encode()).hexdigest()[:16]


def roo_id(workspace: str, file_path: str, start: int, end: int, chunk: str) -> str:
    segment = hashlib.sha256(f"{workspace}/{file_path}-{start}-{end}-{len(chunk)}-{chunk[:100]}".encode()).hexdigest()
    return str(uuid.uuid5(ROO_NAMESPACE, segment))


def make_roo_collection(data: Path, workspace: str = WORKSPACE, dim: int = 64, complete: bool = True) -> str:
    from qdrant_client import QdrantClient
    from qdrant_client import models as m

    name = roo_name(workspace)
    client = QdrantClient(path=str(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        client.create_collection(
            name,
            vectors_config=m.VectorParams(size=dim, distance=m.Distance.COSINE, on_disk=True),
            hnsw_config=m.HnswConfigDiff(m=64, ef_construct=512, on_disk=True),
        )
        for field in ["type", "pathSegments.0", "pathSegments.1", "pathSegments.2", "pathSegments.3", "pathSegments.4"]:
            client.create_payload_index(name, field, m.PayloadSchemaType.KEYWORD)
    points = [
        m.PointStruct(
            id=roo_id(workspace, path, start, end, chunk),
            vector=hash_embed(chunk.strip(), dim).tolist(),
            payload={
                "filePath": path,
                "codeChunk": chunk,
                "startLine": start,
                "endLine": end,
                "segmentHash": "not checked on the read side",
                "pathSegments": {str(i): s for i, s in enumerate(path.split("/"))},
            },
        )
        for path, start, end, chunk in BLOCKS
    ]
    stamp = "completed_at" if complete else "started_at"
    points.append(
        m.PointStruct(
            id=str(uuid.uuid5(ROO_NAMESPACE, "__indexing_metadata__")),
            vector=[0.0] * dim,
            payload={"type": "metadata", "indexing_complete": complete, stamp: 1_700_000_000_000},
        )
    )
    client.upsert(name, points=points, wait=True)
    client.close()
    return name


def without_content_keys(payloads: dict[str, dict], model: str, dim: int, prefix: str = "") -> dict[str, dict]:
    """Our points' payloads without ``contentKey``, each checked on the way: the key names what
    was embedded (the trimmed block, after the model's ``prefix``) and with which model, as a
    later run looks it up (core/ingest/reuse.py). Points without one pass as they are."""
    from roocode_tui.core.agents.kilo import embed_text
    from roocode_tui.core.agents.roo import js_trim
    from roocode_tui.core.chunking.splitter import chunk_hash
    from roocode_tui.core.ingest.reuse import content_key, vector_key

    vkey = vector_key(f"{model}\x00", dim)  # an OpenAI-compatible embedder without a document prefix
    out = {}
    for pid, payload in payloads.items():
        payload = dict(payload)
        key = payload.pop("contentKey", None)
        if key is not None:
            assert key == content_key(vkey, chunk_hash(embed_text(js_trim(payload["codeChunk"]), prefix))), pid
        out[pid] = payload
    return out
