"""Git repositories built in a test with real commits, and the files of a small mailer package
(a settings parser, its callers, retries, a queue, a cache and the cache's test)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(repo: Path, *args: str, author: str = "Ada Dev <ada@example.org>") -> None:
    name, _, email = author.partition(" <")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email.rstrip(">"),
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email.rstrip(">"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def commit(repo: Path, subject: str, files: dict[str, str], author: str = "Ada Dev <ada@example.org>") -> None:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", subject, author=author)


CONFIG = '''"""Settings of the mailer."""


def parse_mailer_settings(text):
    """Read the mailer settings: host, port and sender, one per line."""
    values = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values
'''


CALLERS = '''"""Commands that read the mailer settings before they send."""

from mailer.config import parse_mailer_settings


def send_digest(path):
    settings = parse_mailer_settings(open(path).read())
    return settings["host"], parse_mailer_settings(open(path).read())["port"]


def send_alert(path):
    settings = parse_mailer_settings(open(path).read())
    return settings["sender"], parse_mailer_settings(open(path).read())
'''


RETRY = '''"""Retries."""


def next_delay(attempt, base=0.5, cap=30.0):
    """Exponential backoff with full jitter for the attempt-th retry of a delivery."""
    import random

    return random.uniform(0, min(cap, base * 2**attempt))
'''


QUEUE = '''"""The outgoing queue."""


def deliver(queue, send):
    """Deliver each queued message; a failed delivery waits its backoff delay and goes again."""
    for message in queue:
        send(message)
'''


CACHE = '''"""A cache of rendered templates."""


class TemplateCache:
    def evict_expired(self, now):
        """Drop rendered templates whose time to live has passed."""
        self.items = {k: v for k, v in self.items.items() if v.expires > now}
'''


CACHE_TEST = '''"""Tests of the template cache."""

from mailer.cache import TemplateCache


def test_evict_expired_drops_rendered_templates_whose_time_to_live_has_passed():
    cache = TemplateCache()
    cache.items = {}
    cache.evict_expired(now=10)  # drop rendered templates whose time to live has passed
    assert cache.items == {}
'''


def make_repo(root: Path) -> Path:
    files = {
        "mailer/config.py": CONFIG,
        "mailer/commands.py": CALLERS,
        "mailer/retry.py": RETRY,
        "mailer/queue.py": QUEUE,
        "mailer/cache.py": CACHE,
        "tests/test_cache.py": CACHE_TEST,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root
