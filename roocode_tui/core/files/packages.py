"""Library docs by name: the files of an installed package, to index as ``lib-NAME``.

Python (pypi): the distribution's top-level packages and modules, as its RECORD lists them,
in the environment of the active interpreter (``$VIRTUAL_ENV``, else ``python3`` on PATH) or
the one given; its long description (the README on PyPI) is written to a file in the data
dir, one per package, so it is indexed beside the code. npm: ``node_modules/NAME``, found
from the current directory upwards or in the directory given. The roots stay the same from
one version to the next, so indexing again after an upgrade is an ordinary incremental run:
changed files embedded again, removed ones deleted.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from roocode_tui.core.errors import UsageError

ECOSYSTEMS = ("pypi", "npm")

# Run by the target interpreter: the distribution's version, files and long description.
_PROBE = r"""
import json, sys
from importlib import metadata
try:
    dist = metadata.distribution(sys.argv[1])
except metadata.PackageNotFoundError:
    print(json.dumps(None)); sys.exit(0)
files = [str(f) for f in (dist.files or [])]
base = str(dist.locate_file(""))
meta = dist.metadata
print(json.dumps({"name": meta["Name"], "version": dist.version, "base": base, "files": files,
                  "summary": meta.get("Summary") or "",
                  "description": meta.get_payload() or meta.get("Description") or ""}))
"""


@dataclass
class Package:
    ecosystem: str
    name: str
    version: str
    paths: list[Path] = field(default_factory=list)  # the roots to index
    where: str = ""  # the interpreter or node_modules it was found in

    @property
    def collection(self) -> str:
        return collection_for(self.name)


def collection_for(name: str) -> str:
    """``lib-`` + the package's name made a collection name (``@scope/pkg`` -> ``lib-scope-pkg``)."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", name.lstrip("@")).strip("-.").lower()
    return f"lib-{base}"[:63]


def resolve(
    name: str,
    ecosystem: str = "pypi",
    *,
    python: str | None = None,
    node_modules: str | None = None,
    cwd: str | None = None,
    data_dir: Path,
) -> Package:
    """The installed package ``name`` and the paths to index for it."""
    if ecosystem == "npm":
        return _npm(name, node_modules, cwd or os.getcwd())
    if ecosystem != "pypi":
        raise UsageError(f"--ecosystem must be one of {', '.join(ECOSYSTEMS)} (got {ecosystem!r})")
    return _pypi(name, python or active_python(), data_dir)


def active_python() -> str:
    """The Python a user means by "my environment": an activated venv's, else python3 on PATH."""
    venv = os.environ.get("VIRTUAL_ENV")
    if venv and (Path(venv) / "bin" / "python").exists():
        return str(Path(venv) / "bin" / "python")
    return shutil.which("python3") or shutil.which("python") or sys.executable


def _pypi(name: str, python: str, data_dir: Path) -> Package:
    try:
        proc = subprocess.run(
            [python, "-c", _PROBE, name], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run {python}: {exc}") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"{python} could not list its packages: {last}")
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    if info is None:
        raise UsageError(f"no package {name!r} is installed for {python} (give another one with --python PATH)")
    base = Path(info["base"])
    tops: dict[str, Path] = {}
    for rel in info["files"]:
        parts = Path(rel).parts
        if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith((".dist-info", ".egg-info", ".data")):
            continue
        if len(parts) == 1 and not parts[0].endswith((".py", ".pyi")):
            continue  # a stray top-level file (a .pth, a shared library)
        tops.setdefault(parts[0], base / parts[0])
    paths = [p for p in tops.values() if p.exists()]
    readme = _write_description(data_dir, info)
    if readme is not None:
        paths.append(readme)
    if not paths:
        raise UsageError(f"package {name!r} ({info['version']}) has no files to index (its RECORD lists none)")
    return Package("pypi", info["name"], info["version"], paths, python)


def _write_description(data_dir: Path, info: dict[str, str]) -> Path | None:
    """The long description as a markdown file at a path that stays the same across versions
    (only written when it changed: an unchanged one is not embedded again)."""
    text = (info.get("description") or "").strip()
    if not text:
        return None
    folder = data_dir / "packages" / "pypi" / collection_for(info["name"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "DESCRIPTION.md"
    body = f"# {info['name']} {info['version']}\n\n{info.get('summary') or ''}\n\n{text}\n"
    try:
        if target.read_text(encoding="utf-8") == body:
            return target
    except OSError:
        pass
    target.write_text(body, encoding="utf-8")
    return target


def _npm(name: str, node_modules: str | None, cwd: str) -> Package:
    if node_modules:
        candidates = [Path(node_modules).expanduser()]
    else:
        here = Path(cwd).resolve()
        candidates = [d / "node_modules" for d in (here, *here.parents)]
    for folder in candidates:
        pkg = folder / name
        manifest = pkg / "package.json"
        if manifest.is_file():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"{manifest}: cannot read it ({exc})") from None
            return Package("npm", str(data.get("name") or name), str(data.get("version") or "?"), [pkg], str(folder))
    where = str(candidates[0]) if node_modules else f"node_modules from {cwd} upwards"
    raise UsageError(f"no npm package {name!r} in {where} (give the directory with --node-modules DIR)")
