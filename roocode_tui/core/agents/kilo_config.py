"""Kilo Code's embedding profile: the provider, model and dimension its metadata point records.

Kilo Code deletes and recreates a Qdrant collection whose metadata point does not name the
profile it is configured with (vector-store/qdrant-client.ts:271-335), so the point written here
must carry Kilo's own values. They come from the ``indexing`` section of Kilo's configuration
(JSON with comments): the user's ``$XDG_CONFIG_HOME/kilo/kilo.json`` and ``kilo.jsonc`` (default
``~/.config/kilo/``), then the workspace's ``kilo.jsonc``, ``kilo.json``, ``.kilo/kilo.jsonc`` and
``.kilo/kilo.json``, each overriding the one before (packages/opencode/src/config/config.ts; see
bench/kilo_ref/NOTES.md section 1). Unset keys take Kilo's defaults (``provider`` "openai", the
provider's default model and that model's dimension: indexing/model-registry.ts,
embedding-profile.ts). Without any ``indexing`` section the profile is derived from
roocode-tui's embedder, and the run says so: Kilo then needs that profile in its configuration.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from roocode_tui.core.errors import UsageError

# indexing/model-registry.ts:17-70: each provider's default model, and the dimensions it knows
DEFAULT_MODEL = {
    "kilo": "",
    "openai": "text-embedding-3-small",
    "ollama": "nomic-embed-text",
    "gemini": "gemini-embedding-001",
    "mistral": "codestral-embed-2505",
    "voyage": "voyage-code-3",
    "bedrock": "amazon.titan-embed-text-v2:0",
    "openrouter": "openai/text-embedding-3-small",
    "openai-compatible": "",
    "vercel-ai-gateway": "text-embedding-3-small",
}
DIMENSIONS = {
    "openai": {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536},
    "ollama": {"nomic-embed-text": 768, "mxbai-embed-large": 1024, "all-minilm": 384},
    "gemini": {"gemini-embedding-001": 3072, "text-embedding-004": 768, "embedding-001": 768},
    "mistral": {"codestral-embed-2505": 1536, "codestral-embed": 1536, "mistral-embed": 1024},
    "voyage": {"voyage-code-3": 1024, "voyage-3": 1024, "voyage-3-lite": 512},
    "bedrock": {
        "amazon.titan-embed-text-v2:0": 1024,
        "amazon.titan-embed-text-v1": 1536,
        "cohere.embed-english-v3": 1024,
    },
    "openrouter": {
        "openai/text-embedding-3-small": 1536,
        "openai/text-embedding-3-large": 3072,
        "google/gemini-embedding-2-preview": 3072,
    },
    "vercel-ai-gateway": {"text-embedding-3-small": 1536},
}


@dataclass(frozen=True)
class Profile:
    """The embedding profile of Kilo Code's metadata point, and where it came from."""

    provider: str
    model_id: str
    dimension: int | None  # None: not configured and not known for the model (the embedder's is used)
    source: str  # the files it was read from, or "" when derived from roocode-tui's embedder
    vector_store: str = "lancedb"  # Kilo's indexing.vectorStore (its default)
    enabled: bool = False  # Kilo's indexing.enabled

    @property
    def from_kilo(self) -> bool:
        return bool(self.source)

    def describe(self) -> str:
        dim = f", {self.dimension}-d" if self.dimension else ""
        return f"{self.provider} {self.model_id or '(no model)'}{dim}"


# -- JSON with comments ------------------------------------------------------------------------
_COMMENT = re.compile(r'("(?:[^"\\]|\\.)*")|//[^\n]*|/\*.*?\*/', re.S)
_TRAILING_COMMA = re.compile(r'("(?:[^"\\]|\\.)*")|,(\s*[}\]])', re.S)


def strip_jsonc(text: str) -> str:
    """JSON with comments and trailing commas (jsonc-parser, allowTrailingComma) as plain JSON."""
    text = _COMMENT.sub(lambda m: m.group(1) or " ", text)
    return _TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text)


def load_jsonc(path: Path) -> dict[str, Any] | None:
    """A config file's object (None when it does not exist); a broken one is a usage error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UsageError(f"Kilo Code's config {path}: {exc.strerror or exc}") from None
    if not text.strip():
        return None
    try:
        data = json.loads(strip_jsonc(text.lstrip("\ufeff")))
    except ValueError as exc:
        raise UsageError(f"Kilo Code's config {path} is not valid JSON with comments: {exc}") from None
    return data if isinstance(data, dict) else None


# -- where Kilo's configuration is -------------------------------------------------------------
def config_dir(env: dict[str, str] | None = None, home: Path | None = None) -> Path:
    """``Global.Path.config``: ``$XDG_CONFIG_HOME/kilo``, default ``~/.config/kilo``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or ""
    return Path(base or (home or Path.home()) / ".config") / "kilo"


def config_files(workspace: str, env: dict[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """The files whose ``indexing`` section counts, lowest precedence first."""
    user = config_dir(env, home)
    ws = Path(workspace)
    return [
        user / "kilo.json",
        user / "kilo.jsonc",
        ws / "kilo.jsonc",
        ws / "kilo.json",
        ws / ".kilo" / "kilo.jsonc",
        ws / ".kilo" / "kilo.json",
    ]


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """remeda's mergeDeep: objects merged key by key, anything else replaced."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def indexing_section(workspace: str, env: dict[str, str] | None = None, home: Path | None = None):
    """(the merged ``indexing`` section, the files it came from)."""
    merged: dict[str, Any] = {}
    sources: list[str] = []
    for path in config_files(workspace, env, home):
        data = load_jsonc(path)
        section = data.get("indexing") if data else None
        if isinstance(section, dict):
            merged = _merge(merged, section)
            sources.append(str(path))
    return merged, sources


# -- the profile -------------------------------------------------------------------------------
def _derived_provider(base_url: Any) -> str:
    urls = [base_url] if isinstance(base_url, str) else list(base_url or [])
    hosts = {urlparse(u).hostname for u in urls}
    return "openai" if hosts == {"api.openai.com"} else "openai-compatible"


def resolve(
    workspace: str,
    embedder_settings: Any = None,
    model_id: str = "",
    env: dict[str, str] | None = None,
    home: Path | None = None,
) -> Profile:
    """Kilo Code's profile for ``workspace`` (embedding-profile.ts resolveEmbeddingProfile() over
    config.ts toIndexingConfigInput()); ``model_id`` is roocode-tui's embedder's, used when Kilo
    has no configuration."""
    section, sources = indexing_section(workspace, env, home)
    if not sources:
        provider = _derived_provider(getattr(embedder_settings, "base_url", ""))
        return Profile(provider, model_id, None, "")
    provider = section.get("provider") or "openai"
    if provider not in DEFAULT_MODEL:
        raise UsageError(f"Kilo Code's config ({sources[-1]}): indexing.provider {provider!r} is not one Kilo knows")
    model = section.get("model")
    model = model if isinstance(model, str) else DEFAULT_MODEL[provider]
    dimension = section.get("dimension")
    if isinstance(dimension, bool) or not isinstance(dimension, int | float) or dimension <= 0:
        dimension = DIMENSIONS.get(provider, {}).get(model)
    if provider == "kilo" and not (model and dimension):
        raise UsageError(
            f"Kilo Code's config ({sources[-1]}) uses the kilo provider, whose model and dimension Kilo "
            "looks up online: set indexing.model and indexing.dimension there to the ones Kilo uses"
        )
    return Profile(
        provider,
        model,
        int(dimension) if dimension else None,
        ", ".join(sources),
        vector_store=str(section.get("vectorStore") or "lancedb"),
        enabled=section.get("enabled") is True,
    )
