"""Run Kilo Code's own indexer over a workspace and dump what it writes (a development check, not a test).

Kilo Code v7 indexes with the package ``packages/kilo-indexing`` (npm ``@kilocode/kilo-indexing``). This
script runs its unmodified sources under node: the scanner (``DirectoryScanner``: glob, ignore rules,
size limit, cache), the chunker (``CodeParser``, web-tree-sitter 0.25.10, tree-sitter-wasms 0.1.13), the
cache file (``CacheManager``), the orchestrator's start-of-index logic and its Qdrant store
(``QdrantVectorStore``), with a fake embedder (deterministic vectors from sha256 of each text), and writes
a JSON dump: the collection name and creation body, the payload indexes, every point (id, payload, vector
size, the type of its block), the metadata point, the cache file (path and content) and every call made to
Qdrant. See bench/kilo_ref/NOTES.md for what Kilo's index is, with references.

Kilo's sources are not part of this repository: the script extracts ``packages/kilo-indexing/src`` from a
Kilo Code git directory or checkout at the pinned commit into a build directory, next to the harness in
bench/kilo_ref/ (entry, Qdrant client stand-in, npm lock), installs the npm packages there (``npm ci``:
needs the registry once) and bundles it with esbuild.

    python bench/kilo_check.py --kilo GITDIR [--bun BUN] index WORKSPACE [--out FILE] [--qdrant-server]
        [--provider P --model M --dimension N] [--store FILE] [--state-dir DIR] [--race]
    python bench/kilo_check.py --kilo GITDIR parse FILE...          # CodeParser.parseFile only
    python bench/kilo_check.py --kilo GITDIR golden                 # tests/fixtures/kilo/expected.json
    python bench/kilo_check.py --kilo GITDIR compare WORKSPACE [--dump FILE] [--store-check]

``compare`` runs roocode-tui's ``--schema kilo`` (the whole index run: walker, chunker, payloads, marker,
``--write-cache``) over the workspace into qdrant-client's local mode, with a fake embedder of the dump's
profile and a Kilo config naming it, and counts Kilo's points it reproduces exactly (id, every payload key
and value in Kilo's order, the text Kilo embedded), per extension, plus the metadata point, the collection
and the cache file. ``--store-check`` then loads the collection roocode-tui wrote into the harness's store,
with roocode-tui's cache file in Kilo's cache directory, runs Kilo's own indexer on it, and reports whether
Kilo kept it (no delete, no recreate) and what it wrote. ``--dump`` is Kilo's dump of the same workspace
(default: the harness is run to make one).

``--kilo`` may be a checkout (its working tree is read; its packages/kilo-indexing/src must be the pinned
tree) or a bare git directory (read at the pinned commit), e.g. a clone of github.com/maphew/kilocode,
a fork that carries Kilo-Org's history.

Runtime: node by default; ``--bun PATH`` runs the same bundle under Bun, which is what Kilo's CLI is
(Bun 1.3.14: ``npm install --prefix /tmp/bun-rt @oven/bun-linux-x64@1.3.14`` gives
/tmp/bun-rt/node_modules/@oven/bun-linux-x64/bin/bun).

Grammars: by default the harness loads every grammar once, one at a time, before the scan, so the dump
is deterministic. Kilo loads each grammar when the scan meets the first file of its extension, with up
to 10 files parsed at once, and two loads at once can fail in web-tree-sitter (the extension is then cut
by lines for the rest of the process); ``--race`` runs the scan that way (see NOTES.md).

Qdrant: by default the client is a stand-in that keeps the collection in memory (with ``--store FILE``
it is loaded from and saved to FILE, so a second run sees what the first wrote, as Kilo would on its
next start). ``--qdrant-server`` instead runs Kilo's store through the real @qdrant/js-client-rest
1.17.0 against the Qdrant REST stand-in of tests/support/qdrant_server.py (qdrant-client's local mode), and
reads the points back from it.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

KILO_COMMIT = "8b7b69b551ec7f27f94a8596776dbb9bc9602995"  # maphew/kilocode main; kilo-indexing 7.3.63
KILO_SRC_TREE = "f8003cddd1c24221206ccf3563cd839f58a127c1"  # git tree of packages/kilo-indexing/src there
KILO_SRC = "packages/kilo-indexing/src"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HARNESS = HERE / "kilo_ref"
OUT = Path(tempfile.gettempdir()) / "kilo_ref_out"
FIXTURES = ROOT / "tests" / "fixtures" / "kilo"
# The golden files are copied here and indexed as this workspace: every segmentHash (so every point id)
# contains this absolute path.
GOLDEN_WORKSPACE = Path("/tmp/kilo-fixture-ws")


def _git(git_dir: Path, *args: str) -> bytes:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True, capture_output=True).stdout


def extract(kilo: Path, target: Path) -> None:
    """packages/kilo-indexing/src at the pinned commit -> target/src."""
    dest = target / "src"
    shutil.rmtree(dest, ignore_errors=True)
    if (kilo / KILO_SRC).is_dir() and (kilo / ".git").exists():  # a checkout
        tree = subprocess.run(
            ["git", "-C", str(kilo), "rev-parse", f"HEAD:{KILO_SRC}"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(kilo), "status", "--porcelain", "--", KILO_SRC], capture_output=True, text=True
        ).stdout.strip()
        if tree != KILO_SRC_TREE or dirty:
            sys.exit(f"{kilo}: {KILO_SRC} is not the pinned tree {KILO_SRC_TREE} (commit {KILO_COMMIT})")
        shutil.copytree(kilo / KILO_SRC, dest)
        return
    git_dir = kilo / ".git" if (kilo / ".git").exists() else kilo
    tar = _git(git_dir, "archive", "--format=tar", KILO_COMMIT, KILO_SRC)
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        for member in tf.getmembers():
            if not member.isfile():
                continue
            rel = Path(member.name).relative_to(KILO_SRC)
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tf.extractfile(member).read())  # type: ignore[union-attr]


def prepare(kilo: Path, build: Path) -> Path:
    """The harness bundle in ``build`` (made once; remove the directory to rebuild)."""
    bundle = build / "dist" / "harness.js"
    if bundle.exists():
        return bundle
    build.mkdir(parents=True, exist_ok=True)
    for item in HARNESS.rglob("*"):
        if item.is_file() and item.suffix not in (".md", ".py"):
            target = build / item.relative_to(HARNESS)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item, target)
    extract(kilo, build)
    if not (build / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=build, check=True)
    subprocess.run(["node", "build.mjs"], cwd=build, check=True)
    return bundle


RUNTIME = ["node"]


def run_index(
    bundle: Path,
    workspace: Path,
    out: Path,
    *,
    state_dir: Path,
    provider: str,
    model: str,
    dimension: int,
    store: Path | None = None,
    server: bool = False,
    race: bool = False,
) -> dict:
    cmd = [
        *RUNTIME,
        str(bundle),
        "index",
        "--workspace",
        str(workspace),
        "--state-dir",
        str(state_dir),
        "--provider",
        provider,
        "--model",
        model,
        "--dimension",
        str(dimension),
        "--out",
        str(out),
    ]
    if race:
        cmd.append("--race")
    env = dict(os.environ)
    env.pop("KILO_REF_STORE", None)
    if store:
        cmd += ["--store", str(store)]
        env["KILO_REF_STORE"] = str(store)
    if server:
        sys.path.insert(0, str(ROOT / "tests"))
        from support.qdrant_server import QdrantServer  # only this mode needs it

        env["KILO_REF_REAL_QDRANT"] = "1"
        with QdrantServer() as srv:
            subprocess.run([*cmd, "--qdrant-url", srv.url], check=True, env=env)
    else:
        subprocess.run(cmd, check=True, env=env)
    return json.loads(out.read_text())


def summarize(dump: dict) -> None:
    by_ext: collections.Counter = collections.Counter()
    files_by_ext: collections.defaultdict = collections.defaultdict(set)
    types: collections.Counter = collections.Counter()
    for p in dump["points"]:
        fp = p["payload"]["filePath"]
        ext = os.path.splitext(fp)[1].lower() or fp
        by_ext[ext] += 1
        files_by_ext[ext].add(fp)
        if p["block_type"] in ("fallback_chunk", "fallback_chunk_segment"):
            types[ext] += 1
    print(f"runtime     {dump['runtime']}; grammars {dump['grammars']}")
    print(f"workspace   {dump['workspace_path']}")
    print(f"collection  {dump['collection']['name']}  ({dump['qdrant']['mode']})")
    print(f"status      {dump['status'].get('systemStatus')}: {dump['status'].get('message')}")
    meta = dump["metadata_point"]
    print(f"points      {dump['point_count']} (+ metadata point {meta and meta['id']})")
    print(f"cache file  {dump['cache_file']['path']} ({len(dump['cache_file']['content'] or {})} files)")
    print(f"failed parsers (line fallback): {', '.join(dump['failed_parsers']) or 'none'}")
    print(f"{'ext':10} {'files':>6} {'points':>7} {'line chunks':>11}")
    for ext in sorted(by_ext, key=lambda e: -by_ext[e]):
        print(f"{ext:10} {len(files_by_ext[ext]):6} {by_ext[ext]:7} {types[ext]:11}")


# -- golden data for tests (tests/fixtures/kilo/) --------------------------------------------------------
def golden(bundle: Path) -> None:
    """Index tests/fixtures/kilo/files/ as workspace /tmp/kilo-fixture-ws and write expected.json."""
    src = FIXTURES / "files"
    shutil.rmtree(GOLDEN_WORKSPACE, ignore_errors=True)
    shutil.copytree(src, GOLDEN_WORKSPACE)
    work = Path(tempfile.mkdtemp(prefix="kilo-golden-"))
    try:
        dump = run_index(
            bundle,
            GOLDEN_WORKSPACE,
            work / "dump.json",
            state_dir=work / "state",
            provider="openai-compatible",
            model="kilo-ref-fake-embedder",
            dimension=16,
        )
        parsed = {}
        for path in sorted(GOLDEN_WORKSPACE.rglob("*")):
            if path.is_file():
                out = subprocess.run(
                    [*RUNTIME, str(bundle), "parse", str(path)], check=True, capture_output=True, text=True
                ).stdout
                parsed[str(path.relative_to(GOLDEN_WORKSPACE))] = json.loads(out)["files"][0]["blocks"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = dump["metadata_point"]
    for key in ("started_at", "completed_at"):
        meta["payload"].pop(key, None)
    expected = {
        "about": "Kilo Code's own indexer (packages/kilo-indexing at the commit below) run by bench/kilo_check.py "
        "golden over tests/fixtures/kilo/files/, copied to and indexed as the workspace below",
        "kilo_commit": KILO_COMMIT,
        "workspace": str(GOLDEN_WORKSPACE),
        "collection": dump["collection"]["name"],
        "collection_create": dump["collection"]["stored"]["config"],
        "payload_indexes": dump["collection"]["stored"]["indexes"],
        "profile": dump["profile"],
        "metadata_point": meta,
        "cache_file_name": os.path.basename(dump["cache_file"]["path"]),
        "cache": dict(
            sorted((str(Path(k).relative_to(GOLDEN_WORKSPACE)), v) for k, v in dump["cache_file"]["content"].items())
        ),
        "failed_parsers": dump["failed_parsers"],
        "points": [
            {
                "id": p["id"],
                "payload": {k: v for k, v in p["payload"].items() if k != "codeChunk"},
                "codeChunk_sha256": hashlib.sha256(p["payload"]["codeChunk"].encode()).hexdigest(),
                "codeChunk": p["payload"]["codeChunk"],
                "embedded_text_sha256": p["embedded_text_sha256"],
                "block_type": p["block_type"],
                "identifier": p["identifier"],
            }
            for p in dump["points"]
        ],
        "blocks": parsed,
    }
    (FIXTURES / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {FIXTURES / 'expected.json'}: {len(expected['points'])} points, {len(parsed)} files")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kilo", type=Path, required=True, help="Kilo Code checkout or git directory")
    ap.add_argument("--build", type=Path, default=Path(tempfile.gettempdir()) / "roocode-kilo-ref")
    ap.add_argument("--bun", type=Path, help="run the harness under this Bun binary instead of node")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ix = sub.add_parser("index", help="index a workspace and dump the points")
    ix.add_argument("workspace", type=Path)
    ix.add_argument("--out", type=Path, default=OUT / "dump.json")
    ix.add_argument(
        "--state-dir",
        type=Path,
        help="Kilo's cache directory ($XDG_STATE_HOME/kilo/indexing); default: a fresh one under the output directory",
    )
    ix.add_argument("--provider", default="openai-compatible")
    ix.add_argument("--model", default="kilo-ref-fake-embedder")
    ix.add_argument("--dimension", type=int, default=16)
    ix.add_argument("--store", type=Path, help="memory store loaded from and saved to this JSON file")
    ix.add_argument("--qdrant-server", action="store_true", help="real client against tests/support/qdrant_server.py")
    ix.add_argument("--race", action="store_true", help="let the scan load the grammars, as Kilo does")
    pa = sub.add_parser("parse", help="CodeParser.parseFile of each file (blocks as JSON on stdout)")
    pa.add_argument("files", nargs="+", type=Path)
    sub.add_parser("golden", help="write tests/fixtures/kilo/expected.json")
    cp = sub.add_parser("compare", help="roocode-tui's --schema kilo against Kilo's points")
    cp.add_argument("workspace", type=Path)
    cp.add_argument("--dump", type=Path, help="Kilo's dump of the workspace (default: run the harness)")
    cp.add_argument("--work", type=Path, default=OUT / "compare", help="roocode-tui's store, config and cache")
    cp.add_argument("--store-check", action="store_true", help="then run Kilo's indexer on our collection")
    cp.add_argument("--json", type=Path, help="write the whole comparison (every difference) here")
    args = ap.parse_args(argv)
    bundle = prepare(args.kilo.expanduser(), args.build)
    if args.bun:
        RUNTIME[:] = [str(args.bun)]
    if args.cmd == "parse":
        subprocess.run([*RUNTIME, str(bundle), "parse", *map(str, args.files)], check=True)
    elif args.cmd == "golden":
        golden(bundle)
    elif args.cmd == "compare":
        sys.path.insert(0, str(HARNESS))
        sys.dont_write_bytecode = True  # nothing new in the harness directory, which the build copies
        import compare  # bench/kilo_ref/compare.py

        result = compare.compare(run_index, bundle, args.workspace, args.dump, args.work, args.store_check)
        compare.print_compare(result)
        if args.json:
            args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        state = args.state_dir
        if state is None:
            state = args.out.parent / "state" / "kilo" / "indexing"
            if not args.store:
                shutil.rmtree(state, ignore_errors=True)
        dump = run_index(
            bundle,
            args.workspace,
            args.out,
            state_dir=state,
            provider=args.provider,
            model=args.model,
            dimension=args.dimension,
            store=args.store,
            server=args.qdrant_server,
            race=args.race,
        )
        summarize(dump)
        print(f"dump        {args.out}")


if __name__ == "__main__":
    main()
