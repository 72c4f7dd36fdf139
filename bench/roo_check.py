"""Check `--schema roo`'s (or `--schema zoo`'s) blocks against the agent's own chunker (a
development check, not a test).

Runs the agent's unmodified ``CodeParser.parseFile`` (src/services/code-index/processors/parser.ts)
under node, with the web-tree-sitter and tree-sitter-wasms versions the agent pins, over every file
of a workspace that its scanner would read, runs :func:`roocode_tui.core.agents.roo.split` with the
agent's profile over the same files, and prints, per extension, how many of the agent's blocks are
reproduced exactly (same start line, end line, segmentHash and text: the same point id and
payload) and the differences, grouped by extension, side and node type.

Agents: ``roo`` (Roo Code at ROO_COMMIT, harness bench/roo_ref/) and ``zoo`` (Zoo Code at
ZOO_COMMIT: the same harness, with bench/zoo_ref/'s npm lock laid over it). Their sources are not
part of this repository: the script extracts the files the chunker needs from a git directory or
checkout at the pinned commit into a build directory, next to the harness (its entry, shims for
the VS Code and telemetry imports, the npm lock), installs the npm packages there (``npm ci``:
needs the registry once) and bundles it.

    python bench/roo_check.py [--agent roo|zoo] --src ~/src/Roo-Code WORKSPACE [--build DIR]
        [--json OUT] [--show N] [--python-path DIR]

``--src`` (``--roo`` is the same) may be a checkout (its working tree is read; it must be at the
pinned commit) or a bare git directory (the files are read from the pinned commit); for Zoo Code,
a clone of Zoo-Code-Org/Zoo-Code or of a fork that carries its main. ``--python-path DIR`` puts DIR
first on the import path, to measure other grammar wheels (``pip install --target DIR``).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROO_COMMIT = "cb836567180a3ff1da6d082f3178b90c3bd22a70"
ZOO_COMMIT = "3dcac600b9d13b1d6882749947b6f380e2e4b8df"  # Zoo-Code-Org/Zoo-Code main, 2026-08-22
HERE = Path(__file__).resolve().parent
HARNESS = HERE / "roo_ref"
# What CodeParser imports, under src/ of Roo Code's repository.
ROO_FILES = [
    "services/code-index/constants/index.ts",
    *(
        f"services/code-index/interfaces/{n}.ts"
        for n in ("cache", "config", "embedder", "file-processor", "index", "manager", "vector-store")
    ),
    "services/code-index/processors/parser.ts",
    "services/code-index/shared/supported-extensions.ts",
    "services/code-index/shared/validation-helpers.ts",
    "services/tree-sitter/index.ts",
    "services/tree-sitter/languageParser.ts",
    "services/tree-sitter/markdownParser.ts",
    *(
        f"services/tree-sitter/queries/{n}.ts"
        for n in (
            "c-sharp c cpp css elisp elixir embedded_template go html index java javascript kotlin lua ocaml "
            "php python ruby rust scala solidity swift systemrdl tlaplus toml tsx typescript vue zig"
        ).split()
    ),
    "utils/fs.ts",
]
# Zoo Code's CodeParser imports the same files and two more: its Dart query, and the list of
# extensions chunked by lines (src/services/shared/fallback-extensions.ts).
ZOO_FILES = [*ROO_FILES, "services/tree-sitter/queries/dart.ts", "services/shared/fallback-extensions.ts"]


@dataclass(frozen=True)
class Agent:
    key: str
    commit: str
    files: list[str]
    harness: tuple[Path, ...]  # laid over each other into the build directory, in order
    build: str  # the default build directory's name, under the temporary directory

    def profile(self) -> Any:
        if self.key == "zoo":
            from roocode_tui.core.agents.zoo import ZOO

            return ZOO
        from roocode_tui.core.agents.roo import ROO

        return ROO


AGENTS = {
    "roo": Agent("roo", ROO_COMMIT, ROO_FILES, (HARNESS,), "roocode-roo-ref"),
    "zoo": Agent("zoo", ZOO_COMMIT, ZOO_FILES, (HARNESS, HERE / "zoo_ref"), "roocode-zoo-ref"),
}


def _source(src: Path, rel: str, commit: str = ROO_COMMIT) -> bytes:
    if (src / "src" / rel).is_file():  # a checkout
        return (src / "src" / rel).read_bytes()
    git_dir = src / ".git" if (src / ".git").exists() else src
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{commit}:src/{rel}"], check=True, capture_output=True
    ).stdout


def prepare(src: Path, build: Path, agent: Agent = AGENTS["roo"]) -> Path:
    """The harness bundle in ``build`` (made once; remove the directory to rebuild)."""
    bundle = build / "dist" / "harness.js"
    if bundle.exists():
        return bundle
    if (src / "src").is_dir() and (src / ".git").exists():
        head = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
        if head.strip() != agent.commit:
            sys.exit(f"{src} is at {head.strip() or '?'}, not {agent.commit}")
    build.mkdir(parents=True, exist_ok=True)
    for harness in agent.harness:
        for item in harness.rglob("*"):
            if item.is_file() and item.name != "NOTES.md":
                target = build / item.relative_to(harness)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(item, target)
    for rel in agent.files:
        target = build / "src" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_source(src, rel, agent.commit))
    if not (build / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=build, check=True)
    subprocess.run(["node", "build.mjs"], cwd=build, check=True)
    return bundle


def workspace_files(root: Path, profile: Any = None) -> list[str]:
    """The files the agent's scanner reads: its extensions, outside hidden and ignored
    directories, up to 1 MiB (.gitignore and .rooignore are not applied here)."""
    from roocode_tui.core.agents import roo

    profile = profile or roo.ROO
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames if not roo.ignored_path(os.path.join(rel_dir, d, "x"), profile))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            ext = os.path.splitext(name)[1].lower()
            if ext in profile.extensions and not roo.ignored_path(os.path.relpath(path, root), profile):
                if os.path.getsize(path) <= profile.max_file_bytes:
                    out.append(os.path.abspath(path))
    return out


def reference(bundle: Path, files: list[str]) -> dict[str, list[dict]]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as listing:
        json.dump(files, listing)
    try:
        run = subprocess.run(
            ["node", str(bundle), "--per-file", "--list", listing.name], check=True, capture_output=True, text=True
        )
    finally:
        os.unlink(listing.name)
    return {f["path"]: f["blocks"] for f in json.loads(run.stdout)}


def ours(path: str, types: dict[str, str], profile: Any = None) -> list:
    from roocode_tui.core.agents import roo, roo_tree

    profile = profile or roo.ROO
    text = roo.decode(Path(path).read_bytes())
    ext = os.path.splitext(path)[1].lower()
    if ext not in profile.line_chunked and roo_tree.supported(ext[1:], profile.dialect):
        return roo_tree.split(text, path, ext[1:], set(), types, profile.dialect)
    return roo.split(text, path, profile)


def key(start: int, end: int, digest: str, content: str) -> tuple:
    return (start, end, digest, content)


def compare(ref: dict[str, list[dict]], profile: Any = None, label: str = "Roo Code") -> dict:
    total: collections.Counter = collections.Counter()
    matched: collections.Counter = collections.Counter()
    extra: collections.Counter = collections.Counter()
    files: collections.Counter = collections.Counter()
    diffs: dict[tuple, list] = collections.defaultdict(list)
    for path, blocks in ref.items():
        ext = os.path.splitext(path)[1].lower() or path
        types: dict[str, str] = {}
        mine = {key(b.start_line, b.end_line, b.segment_hash, b.content) for b in ours(path, types, profile)}
        theirs = {key(b["start_line"], b["end_line"], b["segmentHash"], b["content"]): b["type"] for b in blocks}
        files[ext] += 1
        total[ext] += len(theirs)
        matched[ext] += len(theirs.keys() & mine)
        for k in theirs.keys() - mine:
            diffs[(ext, f"{label} only", theirs[k])].append((path, k))
        for k in mine - theirs.keys():
            extra[ext] += 1
            diffs[(ext, "here only", types.get(k[2], "line chunk"))].append((path, k))
    return {"total": total, "matched": matched, "extra": extra, "files": files, "diffs": diffs}


def report(result: dict, show: int) -> None:
    total, matched, extra, files = result["total"], result["matched"], result["extra"], result["files"]
    print(f"{'ext':8} {'files':>6} {'blocks':>10} {'matched':>8} {'rate':>8} {'here only':>9}")
    for ext in sorted(total, key=lambda e: -total[e]):
        rate = matched[ext] / total[ext] if total[ext] else 1.0
        print(f"{ext:8} {files[ext]:6} {total[ext]:10} {matched[ext]:8} {rate:8.2%} {extra[ext]:9}")
    all_total, all_matched = sum(total.values()), sum(matched.values())
    rate = all_matched / all_total if all_total else 1.0
    print(f"{'all':8} {sum(files.values()):6} {all_total:10} {all_matched:8} {rate:8.2%} {sum(extra.values()):9}")
    if result["diffs"]:
        print("\ndifferences (extension, side, node type: count; first ones shown)")
    for (ext, side, kind), rows in sorted(result["diffs"].items(), key=lambda kv: (kv[0][0], -len(kv[1]))):
        print(f"  {ext} {side} {kind}: {len(rows)}")
        for path, (start, end, _digest, content) in rows[:show]:
            print(f"      {path}:{start}-{end} {content[:70]!r}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workspace", type=Path)
    ap.add_argument("--agent", choices=sorted(AGENTS), default="roo")
    ap.add_argument(
        "--src", "--roo", dest="src", type=Path, required=True, help="the agent's checkout or git directory"
    )
    ap.add_argument("--build", type=Path, help="build directory (default: one per agent in the temporary directory)")
    ap.add_argument("--json", type=Path, help="also write the agent's blocks here")
    ap.add_argument("--show", type=int, default=3, help="examples per group of differences")
    ap.add_argument("--python-path", type=Path, help="a directory put first on the import path (grammar wheels)")
    args = ap.parse_args(argv)
    if args.python_path:
        sys.path.insert(0, str(args.python_path))
    agent = AGENTS[args.agent]
    profile = agent.profile()
    build = args.build or Path(tempfile.gettempdir()) / agent.build
    bundle = prepare(args.src.expanduser(), build, agent)
    files = workspace_files(args.workspace, profile)
    ref = reference(bundle, files)
    if args.json:
        args.json.write_text(json.dumps([{"path": p, "blocks": b} for p, b in ref.items()], indent=1))
    report(compare(ref, profile, profile.label), args.show)


if __name__ == "__main__":
    main()
