"""Warnings about how secrets travel and rest, and a log that never holds them."""

from __future__ import annotations

import ipaddress
import logging
import logging.handlers
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import platformdirs

from roocode_tui.core.config_file import APP_NAME

if TYPE_CHECKING:  # annotations only
    from roocode_tui.core.config import Settings

LOG = logging.getLogger("roocode_tui")


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secrets(settings: Settings) -> list[str]:
    out = []
    for key in (settings.embedder.api_key, settings.store.api_key, settings.reranker.api_key):
        if key is not None and key.get_secret_value():
            out.append(key.get_secret_value())
    return out


def warnings_for(settings: Settings) -> list[str]:
    """One line each: keys sent in clear text off this machine, key files others can read."""
    found = []
    checks = [
        ("embedder.api_key", settings.embedder.api_key, settings.embedder.base_urls),
        ("store.api_key", settings.store.api_key, [settings.store.url] if settings.store.url else []),
        (
            "reranker.api_key",
            settings.reranker.api_key,
            [settings.reranker.base_url] if settings.reranker.enabled else [],
        ),
    ]
    for name, key, urls in checks:
        if key is None:
            continue
        for url in urls:
            if url.startswith("http://") and not _is_loopback(url):
                found.append(f"{name} is sent in clear text to {url}: use https:// (or a tunnel)")
    path = settings.config_path
    if path is not None and _holds_key(path):
        try:
            mode = path.stat().st_mode
        except OSError:
            mode = 0
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            found.append(f"config file {path} holds an API key and other users can read it: chmod 600 {path}")
    return found


def _holds_key(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.strip().startswith("api_key") for line in text.splitlines())


class _Redact(logging.Filter):
    def __init__(self, secrets: list[str]):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for s in self.secrets:
            message = message.replace(s, "***")
        record.msg, record.args = message, None
        return True


def setup_logging(settings: Settings, debug: bool = False) -> Path | None:
    """A rotating log in the user state dir; keys are replaced by *** before anything is written."""
    directory = Path(platformdirs.user_state_dir(APP_NAME))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(directory / "roocode-tui.log", maxBytes=2_000_000, backupCount=3)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Redact(secrets(settings)))
    LOG.handlers[:] = [handler]
    LOG.setLevel(logging.DEBUG if debug else logging.INFO)
    LOG.propagate = False
    os.chmod(directory / "roocode-tui.log", 0o600)
    return directory / "roocode-tui.log"
