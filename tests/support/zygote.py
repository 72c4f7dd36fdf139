"""A command-line process forked from one that has already imported the command line.

The crash tests start about ninety ``roocode-tui index`` processes and kill most of them; each
fresh interpreter spends most of a second (qdrant-client's local mode: one and a half) importing
before it does anything. A :class:`Zygote` imports the command line and what an index run loads
once, in a process started with the test's environment, and forks a child per command: a real
process of its own, running ``roocode_tui.cli.main`` from the start, that a SIGKILL ends as it
would end the installed command. The zygote is the children's parent, so it reaps them and says
how each ended.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

SERVE = r"""
import json, os, sys, traceback

import qdrant_client  # noqa: F401  (what an index run loads, imported once)
import roocode_tui.cli.commands  # noqa: F401
import roocode_tui.core.embedders.openai  # noqa: F401
import roocode_tui.core.ingest.indexer  # noqa: F401
import roocode_tui.core.stores.edge  # noqa: F401
import roocode_tui.core.stores.qdrant  # noqa: F401
from roocode_tui.cli import main

answers = os.fdopen(os.dup(1), "w")
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the zygote's own stdout is the answers' pipe only
ended = {}
for line in sys.stdin:
    req = json.loads(line)
    op = req["op"]
    if op == "spawn":
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.dup2(os.open(req.get("stdin") or os.devnull, os.O_RDONLY), 0)
                os.dup2(os.open(req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 1)
                os.dup2(os.open(req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 2)
                sys.argv = ["roocode-tui", *req["argv"]]
                try:
                    main(req["argv"])
                    code = 0
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
                except BaseException:
                    traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        answers.write(json.dumps({"pid": pid}) + "\n")
    else:
        pid = req["pid"]
        if pid not in ended:
            done, status = os.waitpid(pid, 0 if op == "wait" else os.WNOHANG)
            if done:
                ended[pid] = os.waitstatus_to_exitcode(status)
        answers.write(json.dumps({"rc": ended.get(pid)}) + "\n")
    answers.flush()
"""


class Child:
    """A command forked by the zygote: ``poll``, ``wait`` and ``kill`` as on a Popen."""

    def __init__(self, zygote: Zygote, pid: int, out: Path, err: Path):
        self.zygote, self.pid, self.out, self.err = zygote, pid, out, err

    def poll(self) -> int | None:
        return self.zygote.ask({"op": "poll", "pid": self.pid})["rc"]

    def wait(self) -> int:
        return self.zygote.ask({"op": "wait", "pid": self.pid})["rc"]

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    @property
    def stderr(self) -> str:
        return self.err.read_text(errors="replace")


class Zygote:
    """One per test: started with the environment its commands run in (HOME, the store's
    settings), stopped on leaving the ``with``."""

    def __init__(self, env: dict[str, str], scratch: Path):
        self.scratch = scratch
        self.scratch.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, req: dict) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote ended (exit {self.proc.wait()})")
        return json.loads(line)

    def spawn(self, argv: list[str], stdin: str | None = None) -> Child:
        self.count += 1
        out, err = self.scratch / f"{self.count}.out", self.scratch / f"{self.count}.err"
        req = {"op": "spawn", "argv": argv, "stdout": str(out), "stderr": str(err)}
        if stdin is not None:
            feed = self.scratch / f"{self.count}.in"
            feed.write_text(stdin)
            req["stdin"] = str(feed)
        pid = self.ask(req)["pid"]
        return Child(self, pid, out, err)

    def run(self, argv: list[str]) -> Child:
        """A command run to its end (its exit code in ``rc``)."""
        child = self.spawn(argv)
        child.rc = child.wait()
        return child

    def __enter__(self) -> Zygote:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
