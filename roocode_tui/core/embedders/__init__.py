"""Embedders: the bundled CPU model (``local``) and OpenAI-compatible servers (``openai``)."""

from __future__ import annotations

from roocode_tui.core.config import EmbedderSettings
from roocode_tui.core.embedders.base import Embedder, EmbedderStats, default_prefixes


def make_embedder(settings: EmbedderSettings) -> Embedder:
    if settings.provider == "local":
        from roocode_tui.core.embedders.local import LocalEmbedder

        return LocalEmbedder(settings)
    from roocode_tui.core.embedders.openai import OpenAIEmbedder

    return OpenAIEmbedder(settings)


__all__ = ["Embedder", "EmbedderStats", "default_prefixes", "make_embedder"]
