"""Snapshots of a collection, and restoring one into a new collection.

Embedded store: a ``.tar.gz`` of the collection's shard directory and meta.json, taken after a
flush while this process holds the shard (the engine's lock keeps other processes out, and the
store's lock keeps this one's calls out), written under a temporary name and renamed when
complete. It starts with a manifest: the format, the collection's build record and its point
count. Restoring unpacks into a new collection directory (meta.json rewritten with the new
name), checks the manifest and the point count, and never touches an existing collection.

Qdrant server: Qdrant's snapshot API. The snapshot is created on the server (which keeps a
list), then downloaded over HTTP with the store's API key and TLS settings; restoring uploads the
file into a new collection as a priority snapshot. Qdrant's local mode has no snapshots.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tarfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from roocode_tui.core.config import check_collection_name
from roocode_tui.core.errors import UsageError
from roocode_tui.core.stores.base import CollectionMeta, Store, now_iso

FORMAT = "roocode-tui-snapshot/1"
MANIFEST = "roocode-tui-snapshot.json"
SHARD = "shard"
EMBEDDED_EXT = ".tar.gz"
SERVER_EXT = ".snapshot"
FILE_RE = re.compile(r"^(?P<name>.+)\.(?P<stamp>\d{8}T\d{6}Z)(?P<ext>\.tar\.gz|\.snapshot)$")


@dataclass(frozen=True, slots=True)
class Snapshot:
    collection: str
    name: str  # file name (or the server's snapshot name)
    size: int
    created_at: str | None
    where: str  # "file" (path holds it) or "server" (kept by the Qdrant server)
    path: Path | None = None
    points: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        path = data.get("path")
        return cls(
            data["collection"],
            data["name"],
            int(data.get("size") or 0),
            data.get("created_at"),
            data.get("where", "file"),
            Path(path) if path else None,
            data.get("points"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "name": self.name,
            "size": self.size,
            "created_at": self.created_at,
            "where": self.where,
            "path": str(self.path) if self.path else None,
            "points": self.points,
        }


def snapshot_dir(data_dir: Path) -> Path:
    """Where snapshots go unless told otherwise: ``snapshots/`` in the store's data dir."""
    return Path(data_dir).expanduser() / "snapshots"


def default_file(data_dir: Path, name: str, backend: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    ext = EMBEDDED_EXT if backend == "embedded" else SERVER_EXT
    return snapshot_dir(data_dir) / f"{name}.{stamp}{ext}"


def _is_local_mode(store: Store) -> bool:
    return store.backend == "qdrant" and not store.settings.url  # type: ignore[attr-defined]


def _no_local_mode(store: Store) -> None:
    if _is_local_mode(store):
        raise UsageError(
            "Qdrant local mode (store.path without store.url) has no snapshots: use a Qdrant server, "
            "or the embedded store (collections copy NAME --to embedded, then snapshot it there)"
        )


def _check_new_name(name: str) -> None:
    try:
        check_collection_name(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# -- take ------------------------------------------------------------------------------------------
async def take(store: Store, data_dir: Path, name: str, out: Path | None = None) -> Snapshot:
    """Snapshot collection ``name`` into ``out`` (default: the snapshots dir)."""
    _no_local_mode(store)
    if name not in await store.list_collections():
        from roocode_tui.core.errors import CollectionNotFoundError

        raise CollectionNotFoundError(f"collection {name!r} does not exist")
    out = Path(out).expanduser() if out else default_file(data_dir, name, store.backend)
    if out.is_dir():
        out = out / default_file(data_dir, name, store.backend).name
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write a snapshot to {out.parent}: {exc.strerror}") from None
    if store.backend == "embedded":
        return await _take_embedded(store, name, out)
    return await _take_server(store, name, out)


def _tmp_beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")


def _add_json(tar: tarfile.TarFile, arcname: str, data: dict[str, Any]) -> None:
    raw = json.dumps(data, indent=2, sort_keys=True).encode()
    info = tarfile.TarInfo(arcname)
    info.size, info.mode, info.mtime = len(raw), 0o644, int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(raw))


async def _take_embedded(store: Any, name: str, out: Path) -> Snapshot:
    def write(shard_dir: Path, meta: dict[str, Any], points: int) -> Snapshot:
        manifest = {
            "format": FORMAT,
            "collection": name,
            "points": points,
            "created_at": now_iso(),
            "meta": {k: v for k, v in meta.items() if k not in ("shard", "building")},
        }
        tmp = _tmp_beside(out)
        try:
            with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
                _add_json(tar, MANIFEST, manifest)  # first: a reader finds it without unpacking the rest
                tar.add(shard_dir, arcname=SHARD)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise UsageError(f"cannot write the snapshot {out}: {exc.strerror or exc}") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return Snapshot(name, out.name, out.stat().st_size, manifest["created_at"], "file", out, points)

    return await store.archive(name, write)


# -- read a file -----------------------------------------------------------------------------------
def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest of an embedded-store snapshot file; one clear error naming the file otherwise."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or first.name != MANIFEST:
                raise UsageError(f"{path}: not a roocode-tui snapshot of the embedded store (no manifest)")
            fh = tar.extractfile(first)
            manifest = json.loads(fh.read() if fh else b"")
    except FileNotFoundError:
        raise UsageError(f"snapshot file {path} does not exist") from None
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        if isinstance(exc, UsageError):
            raise
        raise UsageError(f"{path}: not a roocode-tui snapshot of the embedded store (unreadable: {exc})") from None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    if found != FORMAT or not isinstance(manifest.get("meta"), dict):
        raise UsageError(f"{path}: unknown snapshot format {found!r} (expected {FORMAT})")
    return manifest


def _is_gzip(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except FileNotFoundError:
        raise UsageError(f"snapshot file {path} does not exist") from None
    except OSError as exc:
        raise UsageError(f"cannot read snapshot file {path}: {exc.strerror}") from None


# -- restore ---------------------------------------------------------------------------------------
async def restore(store: Store, new_name: str, file: Path) -> dict[str, Any]:
    """Restore the snapshot ``file`` into the new collection ``new_name`` (never an existing one)."""
    _check_new_name(new_name)
    _no_local_mode(store)
    file = Path(file).expanduser()
    if new_name in await store.list_collections():
        raise UsageError(f"collection {new_name!r} already exists: restore into a new name (or delete it first)")
    if store.backend == "embedded":
        return await _restore_embedded(store, new_name, file)
    return await _restore_server(store, new_name, file)


async def _restore_embedded(store: Any, new_name: str, file: Path) -> dict[str, Any]:
    import asyncio

    if not _is_gzip(file):
        raise UsageError(f"{file}: not a roocode-tui snapshot of the embedded store (not gzip-compressed)")
    manifest = read_manifest(file)
    try:
        meta = CollectionMeta.from_json(manifest["meta"])
    except TypeError as exc:
        raise UsageError(f"{file}: the manifest's collection record is incomplete ({exc})") from None

    def unpack() -> dict[str, Any]:
        root: Path = store.root
        final = root / new_name
        tmp = store.data_dir / f".restore-{new_name}-{uuid.uuid4().hex[:8]}"
        shard_name = f"{SHARD}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            with tarfile.open(file, "r:gz") as tar:
                members = [m for m in tar.getmembers() if m.name != MANIFEST]
                for m in members:
                    inside = m.name == SHARD or (m.name.startswith(SHARD + "/") and ".." not in Path(m.name).parts)
                    if not inside or not (m.isfile() or m.isdir()):
                        raise UsageError(f"{file}: unexpected entry {m.name!r} in the snapshot")
                tar.extractall(tmp, members=members, filter="data")
            (tmp / SHARD).rename(tmp / shard_name)
            points = _count_shard(tmp / shard_name, file)
            if points != manifest.get("points"):
                raise UsageError(
                    f"{file}: the shard holds {points} points, the manifest says {manifest.get('points')}: "
                    "the snapshot is damaged"
                )
            restored = {**meta.to_json(), "name": new_name, "copying": None, "shard": shard_name}
            restored.pop("staging_for", None)
            (tmp / "meta.json").write_text(json.dumps(restored, indent=2, sort_keys=True), encoding="utf-8")
            root.mkdir(parents=True, exist_ok=True)
            if final.exists():
                raise UsageError(f"collection {new_name!r} already exists: restore into a new name")
            os.rename(tmp, final)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise UsageError(f"{file}: damaged snapshot ({exc})") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return {
            "collection": new_name,
            "points": points,
            "from": str(file),
            "source_collection": manifest["collection"],
        }

    return await asyncio.to_thread(unpack)


def _count_shard(path: Path, file: Path) -> int:
    from qdrant_edge import CountRequest, EdgeShard

    try:
        shard = EdgeShard.load(str(path))
    except Exception as exc:
        raise UsageError(f"{file}: the shard in the snapshot does not open ({str(exc).splitlines()[0]})") from None
    try:
        return int(shard.count(CountRequest(exact=True)))
    finally:
        shard.close()


# -- list --------------------------------------------------------------------------------------------
async def list_snapshots(store: Store, data_dir: Path, name: str) -> list[Snapshot]:
    """The snapshot files of ``name`` in the snapshots dir, and those the Qdrant server keeps."""
    found: list[Snapshot] = []
    folder = snapshot_dir(data_dir)
    ext = EMBEDDED_EXT if store.backend == "embedded" else SERVER_EXT
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            m = FILE_RE.match(path.name)
            if m and m["name"] == name and m["ext"] == ext and path.is_file():
                stamp = datetime.strptime(m["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).isoformat()
                found.append(Snapshot(name, path.name, path.stat().st_size, stamp, "file", path))
    if store.backend == "qdrant":
        _no_local_mode(store)
        found.extend(await _server_list(store, name))
    return found


# -- Qdrant server -------------------------------------------------------------------------------------
async def _physical(store: Any, name: str) -> str:
    resolve = getattr(store, "physical_name", None)
    if resolve is not None:
        return str(await resolve(name))

    async def run(c: Any) -> str:
        aliases = {a.alias_name: a.collection_name for a in (await c.get_aliases()).aliases}
        return aliases.get(name, name)

    return str(await store.call(run))


async def _server_list(store: Any, name: str) -> list[Snapshot]:
    physical = await _physical(store, name)

    async def run(c: Any) -> list[Any]:
        return list(await c.list_snapshots(physical))

    return [
        Snapshot(name, s.name, int(s.size or 0), s.creation_time, "server")
        for s in sorted(await store.call(run), key=lambda s: s.creation_time or "")
    ]


async def _take_server(store: Any, name: str, out: Path) -> Snapshot:
    try:
        described = await store.download_snapshot(name, out)
    except OSError as exc:
        raise UsageError(f"cannot write the snapshot {out}: {exc.strerror or exc}") from None
    return Snapshot(name, described.name, out.stat().st_size, described.creation_time, "file", out)


async def _restore_server(store: Any, new_name: str, file: Path) -> dict[str, Any]:

    if _is_gzip(file):
        read_manifest(file)  # a foreign gzip says so; an embedded snapshot gets the line below
        raise UsageError(
            f"{file} is a snapshot of the embedded store: restore it with store.backend = embedded, then "
            "collections copy NAME --to qdrant"
        )
    try:
        if not tarfile.is_tarfile(file):
            raise UsageError(f"{file}: not a Qdrant snapshot (not a tar archive)")
    except OSError as exc:
        raise UsageError(f"cannot read snapshot file {file}: {exc.strerror}") from None
    await store.upload_snapshot(new_name, file)
    meta = await store.get_meta(new_name)
    if meta is not None and meta.name != new_name:
        meta.name = new_name
        await store.save_meta(meta)
    return {"collection": new_name, "points": await store.count(new_name), "from": str(file)}
