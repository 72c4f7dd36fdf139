"""Build the mixed workspace bench/kilo_check.py was run on (bench/kilo_ref/NOTES.md, "The workspace").

Real files from this machine's packages, copied unmodified into directories with neutral names (Kilo
leaves out any path with a part named node_modules, vendor, build, dist, out, target, bin, ...), plus an
``edge/`` directory whose layout exercises Kilo's file selection: folders it leaves out, folders Roo Code
leaves out and Kilo does not, hidden paths, the root ``.gitignore`` and ``.kilocodeignore`` (the two
ignore files and the nested one are written here), a nested ``.gitignore`` (not read by Kilo), a file
over 1 MiB, symlinks, an upper-case extension, empty and short files. Sources that are missing on a
machine are skipped (and listed).

    python bench/kilo_ref/make_workspace.py [DEST] [--extra DIR]

DEST defaults to /tmp/kilo_ws; ``--extra DIR`` copies DIR's tree in as well (files from elsewhere).
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import zipfile
from pathlib import Path

SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
EVAL = Path(__file__).resolve().parents[1] / "eval" / ".cache" / "repos"
GCLOUD = Path("/usr/lib/google-cloud-sdk")
JDK_SRC = Path("/usr/lib/jvm/temurin-25-jdk-amd64/lib/src.zip")  # OpenJDK 25 (Temurin) sources

# (destination dir, source dir, glob patterns, at most N files (sorted), rename suffix)
SOURCES: list[tuple[str, Path, tuple[str, ...], int, str | None]] = [
    ("py/click", SITE / "click", ("*.py",), 99, None),
    ("py/h11", SITE / "h11", ("*.py",), 99, None),
    ("py/jinja2", SITE / "jinja2", ("*.py",), 99, None),
    ("py/pyparsing_examples", GCLOUD / "platform/gsutil/third_party/pyparsing/examples", ("*.py",), 25, None),
    ("ts/ky", EVAL / "ky/tree/source", ("**/*.ts",), 99, None),
    ("js/npm_lib", Path("/usr/lib/node_modules/npm/lib"), ("**/*.js",), 120, None),
    ("js/express", EVAL / "express/tree", ("index.js", "lib/*.js"), 99, None),
    ("ejs/express_examples", EVAL / "express/tree/examples", ("**/*.ejs",), 99, None),
    ("go/cobra", EVAL / "cobra/tree", ("*.go", "doc/*.go"), 99, None),
    ("rs/log", EVAL / "log/tree", ("src/**/*.rs", "Cargo.toml"), 99, None),
    ("rb/httparty", EVAL / "httparty/tree", ("lib/**/*.rb",), 99, None),
    ("php/appengine", GCLOUD / "platform/google_appengine/php/sdk/google/appengine", ("**/*.php",), 90, None),
    ("c/hiredis", EVAL / "hiredis/tree", ("*.c", "*.h"), 99, None),
    ("cpp/pb_ds", Path("/usr/include/c++/12/ext/pb_ds"), ("**/*.hpp",), 80, None),
    ("md/mkdocs", EVAL / "mkdocs/tree/docs", ("**/*.md",), 50, None),
    ("md/cobra", EVAL / "cobra/tree", ("*.md", "site/**/*.md"), 40, None),
    ("htm/valgrind", Path("/usr/share/doc/valgrind/html"), ("*.html",), 12, ".htm"),
    ("html/libxslt", Path("/usr/share/doc/libxslt1-dev/html"), ("*.html",), 10, None),
    ("html/chardet_nonutf8", GCLOUD / "platform/gsutil/third_party/chardet/tests/windows-1252", ("*.html",), 4, None),
    (
        "css/rustdoc",
        Path("/root/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/share/doc/rust/html/rustdoc"),
        ("**/*.css",),
        5,
        None,
    ),
    ("sh/perf_tests", Path("/usr/lib/perf-core/tests/shell"), ("*.sh", "lib/*.sh"), 40, None),
    ("sh/git_contrib", Path("/usr/share/doc/git/contrib"), ("**/*.sh",), 10, None),
    ("bash/examples", Path("/usr/share/doc/util-linux/examples"), ("*.bash",), 5, None),
    ("yaml/gcloud_compute", GCLOUD / "lib/googlecloudsdk/schemas/compute/v1", ("*.yaml",), 40, None),
    ("yml/workflows", EVAL / "requests/tree/.github/workflows", ("*.yml",), 10, None),
    ("sql/postgres", Path("/usr/share/postgresql/15/extension"), ("*.sql",), 40, None),
    ("rst/cmake", Path("/usr/share/cmake-3.25/Help/command"), ("*.rst",), 40, None),
    ("toml/projects", EVAL / "requests/tree", ("pyproject.toml",), 5, None),
    ("json/npm", Path("/usr/lib/node_modules/npm/node_modules"), ("*/package.json",), 20, None),
    ("txt/cmake", Path("/usr/share/cmake-3.25/Help"), ("**/*.txt",), 10, None),
]

IGNORED_BY_KILO = [
    "node_modules",
    "vendor",
    "build",
    "dist",
    "out",
    "target",
    "bin",
    "obj",
    "desktop",
    "__pycache__",
    "logs",
    "tmp",
    "temp",
    "coverage",
    ".hidden",
]
IGNORED_BY_ROO_ONLY = ["env", "venv", "deps", "pkg", "Pods", "bundle", "Build"]


def copy_sources(dest: Path) -> list[str]:
    missing = []
    for sub, root, patterns, limit, suffix in SOURCES:
        if not root.is_dir():
            missing.append(f"{sub}: {root}")
            continue
        files = sorted({p for pat in patterns for p in glob.glob(str(root / pat), recursive=True) if os.path.isfile(p)})
        for src in files[:limit]:
            rel = Path(src).relative_to(root)
            if suffix:
                rel = rel.with_suffix(suffix)
            target = dest / sub / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
    return missing


def java(dest: Path) -> None:
    if not JDK_SRC.is_file():
        return
    with zipfile.ZipFile(JDK_SRC) as z:
        names = sorted(
            n
            for n in z.namelist()
            if n.startswith("java.base/java/util/")
            and n.count("/") == 3
            and n.endswith(".java")
            and z.getinfo(n).file_size < 60_000
        )
        for n in names[:40]:
            target = dest / "java/util" / Path(n).name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(z.read(n))


def edge(dest: Path) -> None:
    e = dest / "edge"
    e.mkdir(parents=True, exist_ok=True)
    sample = SITE / "h11" / "_util.py"
    for d in IGNORED_BY_KILO + IGNORED_BY_ROO_ONLY + ["gitignored", "kiloignored", "nested", "Nested"]:
        (e / d).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, e / d / "util.py")
    shutil.copyfile(sample, e / ".dotfile.py")
    shutil.copyfile(sample, e / "util.gen.py")
    shutil.copyfile(SITE / "h11" / "__init__.py", e / "short_init.py")
    (e / "empty.py").write_bytes(b"")
    md = EVAL / "cobra" / "tree" / "README.md"
    if md.is_file():
        shutil.copyfile(md, e / "UPPER.MD")
    big = sorted(glob.glob("/root/.rustup/toolchains/*/share/doc/rust/html/book/searchindex-*.js"))
    if big:
        (e / "big").mkdir(exist_ok=True)
        shutil.copyfile(big[0], e / "big" / "searchindex.js")
    (e / "nested" / ".gitignore").write_text("*.py\n")  # a nested ignore file: Kilo reads only the root's
    (dest / ".gitignore").write_text("gitignored/\n*.gen.py\n")
    (dest / ".kilocodeignore").write_text("kiloignored/\n")
    for link, target in (("link_file.py", "../py/h11/_util.py"), ("link_dir", "../go/cobra")):
        if not (e / link).is_symlink():
            os.symlink(target, e / link)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dest", type=Path, nargs="?", default=Path("/tmp/kilo_ws"))
    ap.add_argument("--extra", type=Path)
    args = ap.parse_args()
    shutil.rmtree(args.dest, ignore_errors=True)
    args.dest.mkdir(parents=True)
    missing = copy_sources(args.dest)
    java(args.dest)
    edge(args.dest)
    if args.extra:
        shutil.copytree(args.extra, args.dest, dirs_exist_ok=True)
    n = sum(1 for _ in args.dest.rglob("*") if _.is_file())
    print(f"{args.dest}: {n} files")
    for m in missing:
        print(f"  missing source: {m}")


if __name__ == "__main__":
    main()
