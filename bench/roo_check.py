"""Check `--schema roo`'s blocks against Roo Code's own chunker (a development check, not a test).

Runs Roo Code's unmodified ``CodeParser.parseFile`` (src/services/code-index/processors/parser.ts)
under node, with the web-tree-sitter and tree-sitter-wasms versions Roo Code pins, over every file
of a workspace that Roo Code's scanner would read, runs :func:`roocode_tui.core.agents.roo.split` over the
same files, and prints, per extension, how many of Roo Code's blocks are reproduced exactly (same
start line, end line, segmentHash and text: the same point id and payload) and the differences,
grouped by extension, side and node type.

Roo Code's sources are not part of this repository: the script extracts the files the chunker
needs from a Roo Code git directory or checkout at the pinned commit into a build directory, next
to the harness in bench/roo_ref/ (its entry, shims for the VS Code and telemetry imports, the npm
lock), installs the npm packages there (``npm ci``: needs the registry once) and bundles it.

    python bench/roo_check.py --roo ~/src/Roo-Code WORKSPACE [--build DIR] [--json OUT] [--show N]

``--roo`` may be a checkout (its working tree is read; it must be at the pinned commit) or a bare
git directory (the files are read from the pinned commit).
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
from pathlib import Path

ROO_COMMIT = "cb836567180a3ff1da6d082f3178b90c3bd22a70"
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


def _roo_source(roo: Path, rel: str) -> bytes:
    if (roo / "src" / rel).is_file():  # a checkout
        return (roo / "src" / rel).read_bytes()
    git_dir = roo / ".git" if (roo / ".git").exists() else roo
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{ROO_COMMIT}:src/{rel}"], check=True, capture_output=True
    ).stdout


def prepare(roo: Path, build: Path) -> Path:
    """The harness bundle in ``build`` (made once; remove the directory to rebuild)."""
    bundle = build / "dist" / "harness.js"
    if bundle.exists():
        return bundle
    if (roo / "src").is_dir() and (roo / ".git").exists():
        head = subprocess.run(["git", "-C", str(roo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
        if head.strip() != ROO_COMMIT:
            sys.exit(f"{roo} is at {head.strip() or '?'}, not {ROO_COMMIT}")
    build.mkdir(parents=True, exist_ok=True)
    for item in HARNESS.rglob("*"):
        if item.is_file():
            target = build / item.relative_to(HARNESS)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item, target)
    for rel in ROO_FILES:
        target = build / "src" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_roo_source(roo, rel))
    if not (build / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=build, check=True)
    subprocess.run(["node", "build.mjs"], cwd=build, check=True)
    return bundle


def workspace_files(root: Path) -> list[str]:
    """The files Roo Code's scanner reads: its extensions, outside hidden and ignored
    directories, up to 1 MiB (.gitignore and .rooignore are not applied here)."""
    from roocode_tui.core.agents import roo

    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        dirnames[:] = sorted(d for d in dirnames if not roo.ignored_path(os.path.join(rel_dir, d, "x")))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            ext = os.path.splitext(name)[1].lower()
            if ext in roo.EXTENSIONS and not roo.ignored_path(os.path.relpath(path, root)):
                if os.path.getsize(path) <= roo.MAX_FILE_SIZE_BYTES:
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


def ours(path: str, types: dict[str, str]) -> list:
    from roocode_tui.core.agents import roo, roo_tree

    text = roo.decode(Path(path).read_bytes())
    ext = os.path.splitext(path)[1].lower()
    if roo_tree.supported(ext[1:]):
        return roo_tree.split(text, path, ext[1:], set(), types)
    return roo.split(text, path)


def key(start: int, end: int, digest: str, content: str) -> tuple:
    return (start, end, digest, content)


def compare(ref: dict[str, list[dict]]) -> dict:
    total: collections.Counter = collections.Counter()
    matched: collections.Counter = collections.Counter()
    extra: collections.Counter = collections.Counter()
    files: collections.Counter = collections.Counter()
    diffs: dict[tuple, list] = collections.defaultdict(list)
    for path, blocks in ref.items():
        ext = os.path.splitext(path)[1].lower() or path
        types: dict[str, str] = {}
        mine = {key(b.start_line, b.end_line, b.segment_hash, b.content) for b in ours(path, types)}
        theirs = {key(b["start_line"], b["end_line"], b["segmentHash"], b["content"]): b["type"] for b in blocks}
        files[ext] += 1
        total[ext] += len(theirs)
        matched[ext] += len(theirs.keys() & mine)
        for k in theirs.keys() - mine:
            diffs[(ext, "Roo Code only", theirs[k])].append((path, k))
        for k in mine - theirs.keys():
            extra[ext] += 1
            diffs[(ext, "here only", types.get(k[2], "line chunk"))].append((path, k))
    return {"total": total, "matched": matched, "extra": extra, "files": files, "diffs": diffs}


def report(result: dict, show: int) -> None:
    total, matched, extra, files = result["total"], result["matched"], result["extra"], result["files"]
    print(f"{'ext':8} {'files':>6} {'Roo blocks':>10} {'matched':>8} {'rate':>8} {'here only':>9}")
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
    ap.add_argument("--roo", type=Path, required=True, help="Roo Code checkout or git directory")
    ap.add_argument("--build", type=Path, default=Path(tempfile.gettempdir()) / "roocode-roo-ref")
    ap.add_argument("--json", type=Path, help="also write Roo Code's blocks here")
    ap.add_argument("--show", type=int, default=3, help="examples per group of differences")
    args = ap.parse_args(argv)
    bundle = prepare(args.roo.expanduser(), args.build)
    files = workspace_files(args.workspace)
    ref = reference(bundle, files)
    if args.json:
        args.json.write_text(json.dumps([{"path": p, "blocks": b} for p, b in ref.items()], indent=1))
    report(compare(ref), args.show)


if __name__ == "__main__":
    main()
