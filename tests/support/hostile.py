"""Odd and hostile files in one tree, and code run where a chmod 000 directory really is
unreadable (as an unprivileged user when the suite runs as root)."""

from __future__ import annotations

import json
import os
from pathlib import Path


def build_tree(root: Path) -> None:
    root.mkdir()
    (root / "bin.py").write_bytes(b"\x7fELF\x00\x00\x02binary payload" * 20)
    (root / "latin1.md").write_bytes("# Caf\xe9\n\nna\xefve text in Latin-1\n".encode("latin-1"))
    (root / "utf16.md").write_bytes("# Wide\n\nline two of UTF-16\r\nline three\n".encode("utf-16"))
    (root / "crlf.py").write_bytes(b"def a():\r\n    return 1\r\n\r\n\r\ndef b():\r\n    return 2\r\n")
    (root / "cr.txt").write_bytes(b"first line\rsecond line\rthird line about carriage returns\r")
    (root / "huge_line.txt").write_bytes(b"x" * (10 * 1024 * 1024))
    (root / "empty.md").write_bytes(b"")
    (root / "name with spaces.md").write_text("# Spaces\n\nA file name with spaces.\n")
    (root / "new\nline.md").write_text("# Newline\n\nA file name with a newline in it.\n")
    (root / "ünïcödé.md").write_text("# Ünïcödé\n\nNon-ASCII name and text: naïve café.\n")
    deep = root.joinpath(*[f"d{i}" for i in range(60)])
    deep.mkdir(parents=True)
    (deep / "bottom.md").write_text("# Bottom\n\nSixty directories down.\n")
    (root / "loop").mkdir()
    os.symlink(root, root / "loop" / "back")


NOBODY = 65534


def as_unprivileged(fn):
    """Run fn() where a chmod 000 directory really is unreadable, and return its JSON-able result.

    Root reads everything, so as root fn runs in a forked child that first drops to uid/gid
    65534; the result comes back through a pipe. Otherwise fn runs here.
    """
    if os.geteuid() != 0:
        return fn()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run, report, and leave without pytest's teardown
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            payload = {"ok": fn()}
        except BaseException as exc:
            payload, code = {"error": f"{type(exc).__name__}: {exc}"}, 1
        with os.fdopen(write_end, "w") as fh:
            json.dump(payload, fh)
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    payload = json.loads(data)
    assert "error" not in payload, payload.get("error")
    return payload["ok"]


def chown_tree(path: Path) -> None:
    """Hand a tree to the unprivileged user (when we are root) so that it may write there."""
    if os.geteuid() != 0:
        return
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            os.chown(name, NOBODY, NOBODY, follow_symlinks=False)
