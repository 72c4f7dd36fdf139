"""Settings: a TOML file, overridden by ``ROOCODE_TUI_<SECTION>__<KEY>`` environment variables.

The file is the user config dir's ``roocode-tui/config.toml`` unless ``--config PATH`` or
``ROOCODE_TUI_CONFIG`` names another. Every problem becomes a :class:`ConfigError` whose
message is one line that names the file or variable, the key, and what was expected.
Finding and reading the file is core/config_file.py's, which imports no pydantic (the TUI reads
its config before its first frame and validates it here right after).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

# The file's own names live in config_file (no pydantic); they are imported from here too.
from roocode_tui.core.config_file import APP_NAME as APP_NAME
from roocode_tui.core.config_file import CONFIG_ENV as CONFIG_ENV
from roocode_tui.core.config_file import ENV_PREFIX as ENV_PREFIX
from roocode_tui.core.config_file import ConfigFile, read_config
from roocode_tui.core.config_file import check_collection_name as check_collection_name
from roocode_tui.core.config_file import default_config_path as default_config_path
from roocode_tui.core.config_file import default_data_dir as default_data_dir
from roocode_tui.core.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class EmbedderSettings(_Section):
    provider: Literal["local", "openai"] = "local"
    # One URL, or several replicas (a list, or comma-separated in the environment).
    base_url: str | list[str] = "http://127.0.0.1:8000/v1"
    api_key: SecretStr | None = None
    verify_tls: bool = True
    ca_cert: Path | None = None
    model: str = ""
    dimensions: int | None = Field(default=None, ge=32, le=16384)
    query_prefix: str | None = None
    document_prefix: str | None = None
    send_input_type: bool = False
    query_priority: int | None = None
    batch_size: int | None = Field(default=None, ge=1, le=4096)
    max_concurrency: int = Field(default=10, ge=1, le=256)
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    patience_s: float = Field(default=900.0, gt=0, le=86400)
    max_batch_tokens: int = Field(default=16384, ge=256)
    # What a million tokens cost on this embedder (a paid API, or your GPU's power): `index
    # --dry-run` prints the cost of a run from it.
    price_per_million_tokens: float | None = Field(default=None, ge=0)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | list[str]) -> str | list[str]:
        urls = [u.strip() for u in value.split(",")] if isinstance(value, str) else list(value)
        if not urls or not all(urls):
            raise ValueError("expected at least one URL")
        for url in urls:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"expected an http:// or https:// URL (got {url!r})")
        cleaned = [u.rstrip("/") for u in urls]
        return cleaned[0] if len(cleaned) == 1 else cleaned

    @property
    def base_urls(self) -> list[str]:
        return [self.base_url] if isinstance(self.base_url, str) else list(self.base_url)

    @property
    def tls_verify_arg(self) -> bool | str:
        """httpx's ``verify``: on by default, a custom CA bundle, or off."""
        if self.ca_cert:
            return str(self.ca_cert)
        return self.verify_tls


class StoreSettings(_Section):
    backend: Literal["embedded", "qdrant"] = "embedded"
    path: Path | None = None
    url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=30.0, gt=0)
    # How long one call waits out a failing server (down, restarting, 429, 502/503/504) before
    # it fails with one line; 0: no retries.
    patience_s: float = Field(default=60.0, ge=0, le=86400)
    https: bool | None = None
    verify_tls: bool = True
    ca_cert: Path | None = None
    prefer_grpc: bool = False
    shard_number: int | None = Field(default=None, ge=1)
    replication_factor: int | None = Field(default=None, ge=1)
    on_disk_vectors: bool = False
    # How new collections store their vectors; float16 halves memory, disk and scan time.
    vector_datatype: Literal["float32", "float16"] = "float16"
    hnsw_m: int = Field(default=16, ge=4, le=128)
    hnsw_ef_construct: int = Field(default=100, ge=4)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"expected an http:// or https:// URL (got {value!r})")
        return value.rstrip("/") if value else value

    @property
    def data_dir(self) -> Path:
        return (self.path or default_data_dir()).expanduser()


class IndexSettings(_Section):
    chunk_tokens: int = Field(default=300, ge=32, le=8192)
    chunk_overlap_tokens: int = Field(default=30, ge=0)
    max_file_bytes: int = Field(default=1024 * 1024, ge=1)
    follow_symlinks: bool = True
    skip_dirs: list[str] = Field(default_factory=list)
    # Before a chunk is embedded, its vector is looked for by content in the store: in every
    # collection of the same model (a worktree's, a clone's, an agent's). false: embed every
    # changed chunk (`index --no-reuse` for one run).
    reuse_vectors: bool = True

    @model_validator(mode="after")
    def _overlap(self) -> IndexSettings:
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError("chunk_overlap_tokens must be smaller than chunk_tokens")
        return self


class SearchSettings(_Section):
    # dense: vectors only; keyword: BM25-style only; hybrid: both lanes, ranked by the ranking
    # stack (ranking = true), or without it, keywords fused by weighted RRF only when the query
    # names identifiers (natural-language queries stay dense).
    mode: Literal["dense", "hybrid", "keyword"] = "hybrid"
    dense_weight: float = Field(default=1.0, gt=0)
    keyword_weight: float = Field(default=1.5, gt=0)
    merge_adjacent: bool = True
    # Hybrid search ranks every lane's candidates with what the repository knows: definitions,
    # file and folder names, file coherence, tests and vendored code down (core/search/ranker.py).
    ranking: bool = True
    # Names for sets of collections searched as one ranking: {"work" = ["app", "lib-httpx"]};
    # `search --collection work` (or the MCP search tool) searches them all. A group's name
    # wins over a collection of the same name.
    groups: dict[str, list[str]] = Field(default_factory=dict)


class RerankerSettings(_Section):
    enabled: bool = False
    base_url: str = "http://127.0.0.1:8001/v1"
    api_key: SecretStr | None = None
    model: str = "Qwen/Qwen3-Reranker-0.6B"
    top_n: int = Field(default=20, ge=2, le=200)
    timeout_s: float = Field(default=30.0, gt=0)


class TuiSettings(_Section):
    monitor_interval_s: float = Field(default=1.0, ge=0.2, le=60)
    # While a person types a search, running ingests send no new batches (0 turns this off).
    search_holds_ingest_s: float = Field(default=1.5, ge=0, le=60)


class EngineSettings(_Section):
    # Faces (the CLI; the TUI and MCP later) talk to one long-lived engine per user, started on
    # demand, which keeps the stores open and owns the index runs. false: every command runs
    # in-process, as `--no-engine` does for one command.
    enabled: bool = True
    # The engine exits after this long with no run, no face following one and no request (0: never).
    idle_exit_s: float = Field(default=900.0, ge=0)
    # The engine's Unix socket (default: $XDG_RUNTIME_DIR/roocode-tui/engine-<store>.sock, or
    # /tmp/roocode-tui-<uid>/engine-<store>.sock: one engine per store); its directory is made
    # private (0700).
    socket: Path | None = None
    # After a run, once a collection of the embedded store has had no write for this long, the
    # engine builds its search index (HNSW) in the background: a child process on one CPU at
    # the lowest priority, searches answering meanwhile. Until then a search scans every
    # vector. -1: never (`collections optimize` builds it on demand).
    hnsw_after_s: float = Field(default=30.0, ge=-1)
    # The most memory (MB) that build process may take. A collection too big to index in one
    # go within it is streamed to the process and indexed in pieces (more, smaller segments:
    # searches a little slower); a build that cannot fit even one useful piece, or finds less
    # memory available on the machine than it needs, waits and says so in `status` and F4.
    # 0: no limit (one piece, however big).
    build_memory_mb: int = Field(default=256, ge=0)
    # A TCP listener for the same API, "HOST:PORT" (e.g. "127.0.0.1:7433"), for a face that
    # cannot reach the socket (a container, another host through a tunnel). None: none. Every
    # request on it needs "Authorization: Bearer TOKEN", the token in token_file.
    listen: str | None = None
    # Default: engine.token in the state dir, created 0600 with a random token when missing.
    token_file: Path | None = None
    # Serve the MCP tools (as `roocode-tui mcp` does over stdio) over streamable HTTP at /mcp,
    # on the engine's socket and its TCP listener (listen; the token is needed there too).
    mcp: bool = False
    # A watched collection syncs once its files have been quiet this long after a change
    # (a burst of changes, a branch switch, becomes one run). Roo Code waits 500 ms.
    watch_debounce_ms: int = Field(default=500, ge=50, le=60_000)

    @field_validator("listen")
    @classmethod
    def _check_listen(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"expected HOST:PORT, e.g. 127.0.0.1:7433 (got {value!r})")
        return value.strip()


class RooSettings(_Section):
    # Folders opened in Roo Code: its collections (ws- + a hash of the folder's path) are
    # shown with their workspace when it is one of these (or a configured or current path).
    workspaces: list[Path] = Field(default_factory=list)


class CollectionSettings(_Section):
    name: str
    paths: list[Path] = Field(default_factory=list)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    # The engine watches its paths and keeps its points in sync (`roocode-tui watch NAME
    # [--off]` sets it too, and that choice wins).
    watch: bool = False

    _check_name = field_validator("name")(classmethod(lambda cls, v: check_collection_name(v)))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    tui: TuiSettings = Field(default_factory=TuiSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    reranker: RerankerSettings = Field(default_factory=RerankerSettings)
    roo: RooSettings = Field(default_factory=RooSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    collections: list[CollectionSettings] = Field(default_factory=list)
    default_collection: str | None = None
    # Browse shared indexes safely: every write (index, rebuild, create, delete) is refused.
    read_only: bool = False

    # Where the settings came from (not a config key).
    config_path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _unique_collections(self) -> Settings:
        seen: set[str] = set()
        for c in self.collections:
            if c.name in seen:
                raise ValueError(f"collection {c.name!r} is defined twice")
            seen.add(c.name)
        return self

    def collection(self, name: str) -> CollectionSettings | None:
        return next((c for c in self.collections if c.name == name), None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file; the file comes in as init values placed last.
        return (env_settings, _InitLast(settings_cls, init_settings))


class _InitLast(PydanticBaseSettingsSource):
    """Wraps the init source so that it ranks below the environment."""

    def __init__(self, settings_cls: type[BaseSettings], inner: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        self._inner = inner

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._inner()


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
    msg = str(error.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        msg = "unknown key"
    elif kind == "missing":
        msg = "required key is missing"
    elif "input" in error and kind not in ("model_type", "list_type", "dict_type"):
        value = error["input"]
        if not isinstance(value, dict | list):
            shown = "***" if "api_key" in loc else repr(value)
            msg = f"{msg} (got {shown})"
    return f"{loc}: {msg}" if loc else msg


def load_settings(config: str | os.PathLike[str] | None = None) -> Settings:
    """Load settings from the TOML file (explicit, ``ROOCODE_TUI_CONFIG``, or default)."""
    return settings_from(read_config(config))


def settings_from(source: ConfigFile) -> Settings:
    """Validate a config file's values, overridden by the environment."""
    try:
        settings = Settings(**source.data)
    except ValidationError as exc:
        first = exc.errors()[0]
        more = len(exc.errors()) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        where = _env_source_of(first) or source.where
        raise ConfigError(f"{where}: {_describe(first)}{tail}") from None
    except SettingsError as exc:
        raise ConfigError(f"environment: {exc}") from None
    settings.config_path = source.path if source.found else None
    return settings


def _env_source_of(error: dict[str, Any]) -> str | None:
    """Name the environment variable when the bad value came from one."""
    loc = [str(p) for p in error.get("loc", ()) if isinstance(p, str)]
    if not loc:
        return None
    name = ENV_PREFIX + "__".join(p.upper() for p in loc)
    if name in os.environ:
        return f"environment variable {name}"
    top = ENV_PREFIX + loc[0].upper()
    if top in os.environ:
        return f"environment variable {top}"
    return None


def mask_secret(value: str | None) -> str:
    """Show that a key is set without showing it."""
    return "***" if value else "(not set)"
