"""An embedder on the loopback embedding server with the fault tests' batch, concurrency and
timeout, and the small chunks they index with."""

from __future__ import annotations

from roocode_tui.core.config import EmbedderSettings, IndexSettings
from roocode_tui.core.embedders.openai import OpenAIEmbedder

from .embed_server import EmbedServer

SMALL = IndexSettings(chunk_tokens=60, chunk_overlap_tokens=6)


def embedder_for(srv: EmbedServer, **kw) -> OpenAIEmbedder:
    settings = {
        "provider": "openai",
        "base_url": srv.base_url,
        "model": srv.model,
        "batch_size": 8,
        "max_concurrency": 3,
        "timeout_s": 2.0,
        **kw,
    }
    return OpenAIEmbedder(EmbedderSettings(**settings))
