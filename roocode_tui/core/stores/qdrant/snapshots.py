"""A Qdrant server's snapshots over its HTTP API: made on the server and downloaded, or uploaded
into a new collection; and a new collection seeded from another one that way (``seed_collection``:
a worktree's collection starts as a copy of its sibling's, ingest/seed.py). ``collections
snapshot`` and ``restore`` (core/collections/snapshots.py) use the first two."""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from roocode_tui.core.errors import StoreError
from roocode_tui.core.stores.base import CollectionMeta
from roocode_tui.core.stores.qdrant.lifecycle import META_KEY, QdrantCollections

CHUNK = 1 << 20  # bytes read or written at a time


class QdrantSnapshots(QdrantCollections):
    def http(self) -> Any:
        """An HTTP client to the server's API (the key and TLS settings of the store's client)."""
        import httpx

        s = self.settings
        headers = {"api-key": self._api_key} if self._api_key else {}
        verify: Any = str(s.ca_cert) if s.ca_cert else s.verify_tls
        return httpx.AsyncClient(headers=headers, verify=verify, timeout=httpx.Timeout(s.timeout_s, read=None))

    @property
    def base_url(self) -> str:
        url = str(self.settings.url)
        if self.settings.https and url.startswith("http://"):
            url = "https://" + url[len("http://") :]
        return url.rstrip("/")

    def http_error(self, what: str, exc: Exception) -> StoreError:
        """One line for a failed snapshot call: the server's own reason, the key never shown."""
        import httpx

        if isinstance(exc, httpx.HTTPStatusError):
            status = exc.response.status_code
            if status in (401, 403):
                return StoreError(f"{self.where}: {what}: unauthorised (HTTP {status}): check store.api_key")
            try:
                detail = exc.response.json().get("status", {}).get("error") or exc.response.text
            except (ValueError, AttributeError):
                detail = exc.response.text
            detail = self._mask(str(detail)).splitlines()[0][:300] if detail else ""
            return StoreError(f"{self.where}: {what}: HTTP {status}" + (f": {detail}" if detail else ""))
        text = self._mask(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__
        return StoreError(f"{self.where}: {what}: {text}")

    async def download_snapshot(self, name: str, out: Path) -> Any:
        """Make a snapshot of ``name`` on the server and download it to ``out`` (written beside it,
        then moved in place); returns the server's description of it (name, size, time). An
        ``OSError`` writing ``out`` is raised as it is."""
        physical = await self.physical_name(name)

        async def create(c: Any) -> Any:
            return await c.create_snapshot(physical, wait=True)

        described = await self.call(create)
        if described is None:
            raise StoreError(f"{self.where}: the server made no snapshot of {name!r}")
        url = f"{self.base_url}/collections/{quote(physical)}/snapshots/{quote(described.name)}"
        tmp = out.with_name(f".{out.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")  # as the embedded store's
        try:
            async with self.http() as http, http.stream("GET", url) as resp:
                resp.raise_for_status()
                with open(tmp, "wb") as fh:
                    async for chunk in resp.aiter_bytes(CHUNK):
                        fh.write(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if type(exc).__module__.startswith("httpx") or not getattr(exc, "filename", None):
                raise self.http_error(f"downloading snapshot {described.name}", exc) from None
            raise
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            raise self.http_error(f"downloading snapshot {described.name}", exc) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return described

    async def upload_snapshot(self, name: str, file: Path) -> None:
        """Upload a snapshot file into the new physical collection ``name`` (a priority snapshot:
        its points as they are in the file)."""
        await self.client()  # connects, checks the server
        url = f"{self.base_url}/collections/{quote(name)}/snapshots/upload"
        try:
            async with self.http() as http:
                with open(file, "rb") as fh:
                    resp = await http.post(
                        url,
                        params={"priority": "snapshot", "wait": "true"},
                        files={"snapshot": (file.name, fh, "application/octet-stream")},
                    )
                resp.raise_for_status()
        except Exception as exc:
            raise self.http_error(f"uploading {file.name} into {name!r}", exc) from None

    async def seed_collection(
        self, source: str, meta: CollectionMeta, where: dict[str, str], payload: dict[str, Any]
    ) -> int | None:
        """The new collection as a snapshot of ``source`` made on the server, downloaded and
        uploaded into a new physical collection behind the alias ``meta.name`` (the points ``where``
        does not match deleted, ``payload`` set on the others, ``meta`` its record); the snapshot is
        removed from the server after. None in local mode (no snapshots)."""
        if not self.settings.url or not await self._single_node():
            return None
        from qdrant_client import models as m

        if meta.name in await self.list_collections():
            raise StoreError(f"{self.where}: collection {meta.name!r} already exists")
        physical = f"{meta.name}--{uuid.uuid4().hex[:8]}"
        with tempfile.TemporaryDirectory(prefix="roocode-seed-") as tmp:
            file = Path(tmp) / f"{source}.snapshot"
            described = await self.download_snapshot(source, file)
            try:
                await self.upload_snapshot(physical, file)
            finally:
                await self._drop_snapshot(source, described.name)
        match = [m.FieldCondition(key=k, match=m.MatchValue(value=v)) for k, v in where.items()]

        async def finish(c: Any) -> int:
            if match:
                await c.delete(physical, points_selector=m.Filter(must_not=[m.Filter(must=match)]), wait=True)
            await c.set_payload(physical, payload=payload, points=m.Filter(must=match), wait=True)
            # its record before its alias: no reader sees the new name with the source's record
            await c.update_collection(physical, metadata={META_KEY: meta.to_json()})
            await c.update_collection_aliases(
                change_aliases_operations=[
                    m.CreateAliasOperation(create_alias=m.CreateAlias(collection_name=physical, alias_name=meta.name))
                ]
            )
            return int((await c.count(physical, exact=True)).count)

        try:
            return int(await self._do(finish))
        except BaseException:

            async def drop(c: Any) -> None:
                await c.delete_collection(physical)

            with contextlib.suppress(Exception):  # the failure that brought us here is the one to tell
                await self._do(drop)
            raise

    async def _single_node(self) -> bool:
        """Whether the server runs alone (``/cluster`` says "disabled"): a collection snapshot of
        a cluster's node holds that node's shards only, so a cluster's collections are not
        seeded from one (the run copies file by file)."""
        try:
            async with self.http() as http:
                resp = await http.get(f"{self.base_url}/cluster")
                resp.raise_for_status()
                return resp.json().get("result", {}).get("status") == "disabled"
        except Exception:  # an answer we cannot read: copy file by file, as before
            return False

    async def _drop_snapshot(self, name: str, snapshot: str) -> None:
        physical = await self.physical_name(name)

        async def drop(c: Any) -> None:
            await c.delete_snapshot(physical, snapshot, wait=True)

        with contextlib.suppress(StoreError):  # else left in the server's snapshots dir (`collections snapshots`)
            await self._do(drop)
