"""Python functions packed several to a file (part of ``make eval``).

A local stand-in for public code-search benchmarks of natural-language queries over Python
functions packed several to a file, where the ceiling is perfect function-level chunks.
Documented functions of the standard library (not the modules of ``run.py``) are dedented into
plain functions and packed 3 to 8 to a file in random order. Each is asked for twice: by its
docstring's first paragraph, which the indexed copy leaves out (the rest of the docstring
stays, as a documented function's would), and by a short lower-case web-style query made of
it. Rows: the seed's pipeline, this project's (dense and hybrid, default settings), and the
ceiling: every function one chunk, whole, no header (dense). Vectors are reused from
``bench/eval/.cache``.
"""

from __future__ import annotations

import ast
import asyncio
import json
import random
import re
import sys
import tempfile
import textwrap
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

import run as base  # noqa: E402
from langs import ReusingEmbedder  # noqa: E402

from roocode_tui.core.ingest.jobs import point_id  # noqa: E402
from roocode_tui.core.search.searcher import search_many  # noqa: E402
from roocode_tui.core.stores.base import CollectionMeta, PointRecord  # noqa: E402
from roocode_tui.core.stores.edge import EdgeStore  # noqa: E402

MODULES = [
    "argparse.py", "ast.py", "base64.py", "configparser.py", "contextlib.py", "copy.py", "csv.py",
    "dataclasses.py", "datetime.py", "decimal.py", "enum.py", "ftplib.py", "functools.py",
    "gettext.py", "gzip.py", "hashlib.py", "imaplib.py", "inspect.py", "ipaddress.py", "locale.py",
    "mailbox.py", "mimetypes.py", "ntpath.py", "os.py", "pathlib.py", "pickle.py", "platform.py",
    "plistlib.py", "posixpath.py", "pprint.py", "random.py", "shutil.py", "smtplib.py", "socket.py",
    "ssl.py", "statistics.py", "string.py", "subprocess.py", "tarfile.py", "tempfile.py",
    "threading.py", "tokenize.py", "traceback.py", "typing.py", "urllib/parse.py", "urllib/request.py",
    "uuid.py", "warnings.py", "weakref.py", "zipfile.py",
]  # fmt: skip
MAX_CASES = 400
BEGIN, END = "<!-- eval-packed:begin -->", "<!-- eval-packed:end -->"
MODES = ["dense", "hybrid"]
MAX_CHARS = 3000


def functions(source: str) -> list[tuple[str, str, str]]:
    """(name, first paragraph of the docstring, the function's text without it), dedented."""
    tree = ast.parse(source)
    lines = source.split("\n")
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("_"):
            continue
        doc = ast.get_docstring(node)
        if not doc:
            continue
        first, _, rest = doc.strip().partition("\n\n")
        query = " ".join(first.split())
        if len(query.split()) < 5 or len(query) > 200:
            continue
        expr = node.body[0]
        begin = min([node.lineno] + [d.lineno for d in node.decorator_list])
        head = "\n".join(lines[begin - 1 : expr.lineno - 1])
        tail = "\n".join(lines[expr.end_lineno : node.end_lineno])
        indent = " " * (expr.col_offset)
        body = textwrap.indent('"""' + rest.strip().replace('"""', "'''") + '\n"""', indent) if rest.strip() else ""
        text = head + ("\n" + body if body else "") + ("\n" + tail if tail.strip() else "\n" + indent + "pass")
        if len(text) > MAX_CHARS:
            continue
        text = textwrap.dedent(text)
        out.append((node.name, query, text))
    return out


_FILLER = frozenset("a an and are as at be by for from has have if in is it its of on or that the this to with".split())


def web_query(sentence: str) -> str:
    """A short lower-case query in the manner of a web search: "python" and the first two to
    four content words of the docstring's first sentence ("python next tarinfo object")."""
    first = re.split(r"(?<=[a-z0-9)])\.(\s|$)", sentence, maxsplit=1)[0]
    words = [w for w in re.findall(r"[a-z0-9]+", first.lower()) if w not in _FILLER]
    if words and words[0] in ("return", "returns"):
        words = words[1:]
    return " ".join(["python", *words[: 2 + zlib.crc32(sentence.encode()) % 3]])


def build(dest: Path) -> list[base.Case]:
    rng = random.Random(7)
    found = []
    for name in MODULES:
        path = base.STDLIB / name
        if path.exists():
            found.extend(functions(path.read_text()))
    rng.shuffle(found)
    found = found[:MAX_CASES]
    cases: list[base.Case] = []
    n = i = 0
    while i < len(found):
        k = rng.randint(3, 8)
        take = found[i : i + k]
        i += k
        n += 1
        fname = f"snippets_{n:03}.py"
        parts, line = [], 1
        for _, query, text in take:
            text = text.strip("\n")
            start = line
            end = start + text.count("\n")
            parts.append(text)
            cases.append(base.Case(query, fname, start, end, False))
            cases.append(base.Case(web_query(query), fname, start, end, True))
            line = end + 3
        (dest / fname).write_text("\n\n\n".join(parts) + "\n")
    return cases


async def ceiling(corpus: Path, data: Path, emb: ReusingEmbedder, cases: list[base.Case]) -> list:
    """Perfect function-level chunks: each target function one chunk, whole, no header."""
    store = EdgeStore(data)
    await store.create_collection(CollectionMeta("ceiling", emb.model_id, 384, emb.query_prefix, emb.document_prefix))
    texts = {}
    for case in cases:
        lines = (corpus / case.path).read_text().split("\n")
        texts[(case.path, case.start, case.end)] = "\n".join(lines[case.start - 1 : case.end])
    keys = list(texts)
    vectors = []
    for i in range(0, len(keys), 32):
        vectors.extend(await emb.embed_documents([texts[k] for k in keys[i : i + 32]]))
    points = [
        PointRecord(
            point_id(str(corpus), p, str(s)),
            vec,
            {"root": str(corpus), "path": p, "start_line": s, "end_line": e, "text": texts[(p, s, e)]},
        )
        for (p, s, e), vec in zip(keys, vectors, strict=True)
    ]
    await store.upsert("ceiling", points)
    results = await search_many(store, emb, "ceiling", [c.query for c in cases], limit=10, mode="dense", merge=False)
    await store.close()
    return [[(h.path, h.start_line, h.end_line) for h in r.hits] for r in results]


def main() -> None:
    started = time.perf_counter()
    emb = ReusingEmbedder()
    with tempfile.TemporaryDirectory(prefix="roocode-eval-packed-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        corpus.mkdir()
        cases = build(corpus)
        files = len(list(corpus.iterdir()))
        print(f"{len(cases)} queries over {files} files", flush=True)
        runs = {"seed (512 chars, no context)": asyncio.run(base.seed_pipeline(corpus, work / "seed", emb, cases))}
        for mode, ranked in asyncio.run(base.ours(corpus, work / "ours", emb, cases, MODES)).items():
            runs[mode] = ranked
        runs["ceiling (one chunk per function, dense)"] = asyncio.run(ceiling(corpus, work / "ceil", emb, cases))
        emb.save()
    # Case.identifier marks the web-style twin of each docstring query here
    slices = {"docstring sentence": lambda c: not c.identifier, "web-style": lambda c: c.identifier}
    rows = base.score_slices(runs, cases, slices)
    elapsed = time.perf_counter() - started
    write(rows, elapsed, len(cases) // 2, files)
    print(json.dumps({"seconds": round(elapsed), "embedded": emb.embedded}))


def write(rows: list, elapsed: float, n: int, files: int) -> None:
    base.write_table(
        BEGIN,
        END,
        "## Retrieval quality: Python functions packed several to a file (`make eval`)",
        f"{n} functions of the standard library with a docstring, dedented and packed 3 to 8 to a file "
        f"({files} files); each is asked for twice: by its docstring's first paragraph (left out of the "
        "indexed copy, the rest of the docstring kept) and by a short web-style query made of it "
        '("python next tarinfo object"). The ceiling embeds each function whole as one chunk. '
        f"Embedded default model for every row; took {elapsed:.0f} s (vectors reused from earlier runs).",
        rows,
    )


if __name__ == "__main__":
    main()
