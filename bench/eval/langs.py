"""Retrieval quality per language (``make eval``): doc-comment queries over real libraries.

Each corpus is real, well-commented open-source code fetched from a package registry (Debian
packages, npm, PyPI sdists) or the JDK's own sources, cached under ``bench/eval/.cache``.
Queries are the first sentences of functions' doc comments; the indexed copy has those doc
comments blanked out (line numbers kept), so a query can only be answered by the code. A hit is
a result whose line range covers at least half of the target function or lies at least half
inside it (``run.is_hit``). Pipelines, all with the embedded default model:

- the seed's: 512 characters, 50 overlap, no context header, dense search;
- the splitter: this project's pipeline with code cut by langchain's separators (as it was
  before chunks followed syntax trees), hybrid search;
- structured: code cut by its syntax tree (the default), hybrid search.

Usage: ``python bench/eval/langs.py [LANG ...]`` (writes its section of bench/RESULTS.md when
run for every language).
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import run as base  # noqa: E402

from roocode_tui.core.chunking import syntax, syntax_rules  # noqa: E402
from roocode_tui.core.config import EmbedderSettings, IndexSettings  # noqa: E402
from roocode_tui.core.embedders.local import LocalEmbedder  # noqa: E402
from roocode_tui.core.ingest.indexer import Indexer  # noqa: E402
from roocode_tui.core.search.searcher import search_many  # noqa: E402
from roocode_tui.core.stores.edge import EdgeStore  # noqa: E402

CACHE = HERE / ".cache"
BEGIN, END = "<!-- eval-langs:begin -->", "<!-- eval-langs:end -->"
FUNCTION_LABELS = {"func", "fn", "function", "method", "def", "constructor"}
# files per corpus (default 40)
MAX_FILES = {"javascript": 150, "typescript": 120, "java": 15, "ruby": 160, "php": 80, "c-headers": 150}
MAX_CASES = 200  # queries per language, taken evenly
GRAMMAR_OF = {"c-headers": "c"}  # a corpus named other than its grammar


class ReusingEmbedder(LocalEmbedder):
    """The default model, reading back the vectors of texts that earlier runs embedded (same
    model, same text: same vector) from ``bench/eval/.cache/vectors.pkl``: a run after a
    chunking change embeds only the chunks it cuts differently."""

    def __init__(self) -> None:
        super().__init__(EmbedderSettings())
        self.file = CACHE / "vectors.pkl"
        self.vectors: dict[bytes, np.ndarray] = pickle.loads(self.file.read_bytes()) if self.file.exists() else {}
        self.embedded = 0

    async def _run(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return await super()._run(texts, is_query)
        keys = [
            hashlib.blake2b(
                f"{self.model_id}\0{int(is_query)}\0{t}".encode("utf-8", "surrogatepass"), digest_size=16
            ).digest()
            for t in texts
        ]
        new = [i for i, k in enumerate(keys) if k not in self.vectors]
        if new:
            for i, vec in zip(new, await super()._run([texts[i] for i in new], is_query), strict=True):
                self.vectors[keys[i]] = vec
            self.embedded += len(new)
        return np.stack([self.vectors[k] for k in keys])

    def save(self) -> None:
        """Add this run's vectors to the file, keeping those another run saved meanwhile (two
        evaluations running at once used to drop each other's vectors)."""
        import fcntl

        CACHE.mkdir(parents=True, exist_ok=True)
        with open(CACHE / "vectors.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.file.exists():
                for key, vector in pickle.loads(self.file.read_bytes()).items():
                    self.vectors.setdefault(key, vector)
            tmp = self.file.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(pickle.dumps(self.vectors))
            tmp.replace(self.file)


def _apt(packages: list[str]) -> Callable[[Path], None]:
    def fetch(dest: Path) -> None:
        debs = dest / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        subprocess.run(["apt-get", "download", *packages], cwd=debs, check=True, capture_output=True)
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(dest / "x")], check=True)

    return fetch


def _npm(package: str) -> Callable[[Path], None]:
    def fetch(dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "pack", package, "--silent"], cwd=dest, check=True, capture_output=True, text=True)
        with tarfile.open(dest / out.stdout.strip().splitlines()[-1]) as tar:
            tar.extractall(dest / "x", filter="data")

    return fetch


def _sdist(package: str) -> Callable[[Path], None]:
    def fetch(dest: Path) -> None:
        dest.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q", "-d", str(dest)]
        subprocess.run([*cmd, package], check=True, capture_output=True)
        with tarfile.open(next(dest.glob("*.tar.gz"))) as tar:
            tar.extractall(dest / "x", filter="data")

    return fetch


def _jdk(dest: Path) -> None:
    found = [f for f in sorted(glob.glob("/usr/lib/jvm/*/lib/src.zip")) if os.path.exists(f)]
    if not found:
        raise RuntimeError("no JDK src.zip under /usr/lib/jvm (apt-get install openjdk-17-source)")
    with zipfile.ZipFile(found[0]) as z:
        for name in z.namelist():
            if name.startswith("java.base/java/util/") and name.count("/") == 3 and name.endswith(".java"):
                z.extract(name, dest / "x")


# language -> (how to fetch, glob of the files under the fetched tree, globs of files to leave out)
CORPORA: dict[str, tuple[Callable[[Path], None], str, tuple[str, ...]]] = {
    "go": (
        _apt(["golang-1.19-src"]),
        "x/usr/share/go-1.19/src/{strings,bytes,strconv,sort,bufio,path}/*.go",
        ("*_test.go",),
    ),
    "rust": (
        _apt(["librust-either-dev", "librust-itertools-dev", "librust-smallvec-dev", "librust-semver-dev"]),
        "x/usr/share/cargo/registry/*/src/**/*.rs",
        ("*/tests/*",),
    ),
    # lodash's bundles (core.js, lodash.js and their .min.js) repeat the per-method modules with
    # their doc comments, which the blanking does not reach inside the bundle's wrapper function:
    # a query would find its own doc comment there.
    "javascript": (_npm("lodash@4.17.21"), "x/package/*.js", ("_*", "core*.js", "lodash*.js")),
    "typescript": (_npm("rxjs@7.8.1"), "x/package/src/internal/{operators,observable}/*.ts", ()),
    "java": (_jdk, "x/java.base/java/util/*.java", ()),
    # zstd 1.5's library as separate files (bundled by pyzstd 0.15.9): its decoder, common code and
    # dictionary builder. (The single-file amalgamation, 50,000 lines in one file, is no codebase
    # a person searches, and took most of the eval's time.)
    "c": (_sdist("pyzstd==0.15.9"), "x/*/zstd/lib/{common,decompress,dictBuilder}/*.c", ()),
    # C headers: an API's prototypes and their Doxygen comments (libgit2, libyaml, liblzma, zstd).
    "c-headers": (
        _apt(["libgit2-dev", "libyaml-dev", "liblzma-dev", "libzstd-dev"]),
        "x/usr/include/{git2/*.h,git2/sys/*.h,yaml.h,lzma/*.h,zstd.h,zdict.h}",
        (),
    ),
    # Rack, Thor and Active Support's core extensions (RDoc comments), as Debian ships the gems.
    "ruby": (
        _apt(["ruby-rack", "ruby-thor", "ruby-activesupport"]),
        "x/usr/share/rubygems-integration/all/gems/"
        "{rack-*/lib/rack,thor-*/lib/thor,activesupport-*/lib/active_support/core_ext/*}/*.rb",
        (),
    ),
    # Guzzle's PSR-7 messages and Symfony's String and HttpFoundation (PHPDoc comments).
    "php": (
        _apt(["php-guzzlehttp-psr7", "php-symfony-string", "php-symfony-http-foundation"]),
        "x/usr/share/php/{GuzzleHttp/Psr7,Symfony/Component/String,Symfony/Component/HttpFoundation}/*.php",
        (),
    ),
}


def corpus_files(lang: str) -> list[Path]:
    fetch, pattern, leave_out = CORPORA[lang]
    dest = CACHE / lang
    done = dest / ".done"
    if not done.exists() or done.read_text() != pattern:  # not fetched, or another corpus
        shutil.rmtree(dest, ignore_errors=True)
        fetch(dest)
        done.write_text(pattern)
    patterns = [pattern]
    m = re.search(r"\{([^}]*)\}", pattern)
    if m:
        patterns = [pattern[: m.start()] + alt + pattern[m.end() :] for alt in m.group(1).split(",")]
    files = sorted({Path(p) for pat in patterns for p in glob.glob(str(dest / pat), recursive=True)})
    files = [f for f in files if not any(Path(f).match(g) for g in leave_out)]
    return files


def _comment_text(lines: list[str]) -> str:
    """A doc comment's summary paragraph: markers dropped, up to the first blank line, tag,
    heading (``# Examples``) or code fence."""
    out = []
    for line in lines:
        t = line.strip()
        t = re.sub(r"^(/\*\*?|\*/|\*|///?|//!|#)", "", t).strip()
        t = re.sub(r"\*/$", "", t).strip()
        if t.startswith(("@", "<", "#", "```")) or (not t and any(out)):
            break
        out.append(t)
    text = " ".join(w for w in out if w)
    return re.sub(r"\{@\w+ ([^}]*)\}", r"\1", text)


def first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    return (m.group(1) if m else text).strip()


def build(lang: str, dest: Path) -> list[base.Case]:
    """Copy the corpus flat into ``dest`` with function doc comments blanked; the cases."""
    grammar = syntax.GRAMMARS[GRAMMAR_OF.get(lang, lang)]
    cases: list[base.Case] = []
    files = corpus_files(lang)[: MAX_FILES.get(lang, 40)]
    for path in files:
        text = path.read_text(errors="replace")
        tree = syntax.parse(grammar, text)
        lines = text.split("\n")
        name = "__".join(path.relative_to(CACHE / lang).parts[-3:])
        targets: list[tuple[int, int, str]] = []

        def visit(parent: object, lines: list[str] = lines, targets: list = targets) -> None:
            for node, label, _fname in syntax_rules.members(grammar, parent):
                body = syntax_rules.def_body(grammar, node)
                if body is not None:
                    visit(body)
                if label.split()[0] not in FUNCTION_LABELS:
                    continue
                start, lead = node.start_point.row, syntax_rules.leading_start_row(grammar, node)
                doc_rows = [r for r in range(lead, start) if not lines[r].lstrip().startswith(("#[", "@"))]
                if not doc_rows:
                    continue
                query = first_sentence(_comment_text([lines[r] for r in doc_rows]))
                if len(re.findall(r"[A-Za-z]{2,}", query)) < 4 or not query[:1].isalpha():
                    continue  # too short, or a banner (/*---- Common functions ----*/)
                for r in doc_rows:
                    lines[r] = ""
                targets.append((start + 1, syntax_rules.last_row(node) + 1, query))

        for parent in syntax_rules.unit_parents(grammar, tree.root_node):
            visit(parent)
        (dest / name).write_text("\n".join(lines))
        cases += [base.Case(q, name, s, e, False) for s, e, q in targets]
    return distinct_sample(cases)


def distinct_sample(cases: list[base.Case]) -> list[base.Case]:
    """The cases whose query is asked once (a query with two answers names neither), taken
    evenly down to ``MAX_CASES``."""
    counts: dict[str, int] = {}
    for c in cases:
        counts[c.query] = counts.get(c.query, 0) + 1
    cases = [c for c in cases if counts[c.query] == 1]
    step = max(1, -(-len(cases) // MAX_CASES))
    return cases[::step]


async def pipeline(corpus: Path, data: Path, emb: LocalEmbedder, cases: list[base.Case], structured: bool) -> list:
    saved = dict(syntax.GRAMMARS)
    if not structured:
        syntax.GRAMMARS.clear()  # code cut by langchain's separators, as before syntax trees
    try:
        store = EdgeStore(data)
        await Indexer(store, emb, "ours", [corpus], index=IndexSettings()).run()
        results = await search_many(store, emb, "ours", [c.query for c in cases], limit=10, mode="hybrid")
        await store.close()
    finally:
        syntax.GRAMMARS.update(saved)
    return [[(h.path, h.start_line, h.end_line) for h in r.hits] for r in results]


def main() -> None:
    langs = sys.argv[1:] or list(CORPORA)
    started = time.perf_counter()
    emb = ReusingEmbedder()
    rows = []
    for lang in langs:
        with tempfile.TemporaryDirectory(prefix=f"roocode-eval-{lang}-") as tmp:
            work = Path(tmp)
            corpus = work / "corpus"
            corpus.mkdir()
            cases = build(lang, corpus)
            print(f"{lang}: {len(cases)} queries over {len(list(corpus.iterdir()))} files", flush=True)
            runs = {
                "seed (512 chars, no context)": asyncio.run(base.seed_pipeline(corpus, work / "seed", emb, cases)),
                "splitter (separators, hybrid)": asyncio.run(pipeline(corpus, work / "split", emb, cases, False)),
                "structured (syntax tree, hybrid)": asyncio.run(pipeline(corpus, work / "tree", emb, cases, True)),
            }
            emb.save()
        for label, ranked in runs.items():
            m = base.score(cases, ranked)
            rows.append((lang, label, m))
            print(
                f"  {label:34} MRR@10 {m['mrr@10']:.3f}  R@1 {m['recall@1']:.3f}  R@10 {m['recall@10']:.3f}",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    if set(langs) == set(CORPORA):
        write(rows, elapsed, emb.embedded)
    print(json.dumps({"seconds": round(elapsed), "embedded": emb.embedded}))


def write(rows: list, elapsed: float, embedded: int) -> None:
    lines = [
        BEGIN,
        "## Retrieval quality per language (`make eval`)",
        "",
        "Queries: the first sentence of functions' doc comments in real libraries (Go: the standard "
        "library's strings, bytes, strconv, sort, bufio, path; Rust: either and itertools, the first 40 "
        "files of either, itertools, smallvec, semver; JavaScript: lodash 4.17.21's modules; TypeScript: "
        "rxjs 7.8.1 operators and observables; Java: the JDK's java.util; C: zstd 1.5's decoder, common "
        "code and dictionary builder as bundled by pyzstd 0.15.9; C headers: libgit2 1.5, libyaml 0.2.5, "
        "liblzma 5.4 and zstd 1.5's public headers as Debian ships them (prototypes' doc comments); "
        "Ruby: Rack, Thor and Active Support's "
        "core extensions; PHP: Guzzle's PSR-7 and Symfony's String and HttpFoundation), against a copy "
        "with those doc "
        "comments blanked. Embedded default model for every pipeline. "
        f"Took {elapsed:.0f} s ({embedded:,} texts embedded; the vectors of the others were read back "
        "from earlier runs, `bench/eval/.cache/vectors.pkl`).",
        "",
        "| language | pipeline | queries | MRR@10 | Recall@1 | Recall@10 |",
        "|---|---|---|---|---|---|",
    ]
    for lang, label, m in rows:
        lines.append(
            f"| {lang} | {label} | {m['n']} | {m['mrr@10']:.3f} | {m['recall@1']:.3f} | {m['recall@10']:.3f} |"
        )
    lines.append(END)
    base.write_section("\n".join(lines), BEGIN, END)


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
