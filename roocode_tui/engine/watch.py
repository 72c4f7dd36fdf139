"""Watched collections: the engine sees their files change and keeps their points in sync.

Each watched collection has a :class:`Watcher`. It watches every directory an index walk of
the collection's paths goes into (the walker's own ignore rules, skip dirs, symlink choice and
loop check: ``Walker.directories``), one inotify watch each through ``watchfiles``, so ignored
trees such as ``node_modules`` cost nothing. A change marks the collection behind; once its
files have been quiet for ``engine.watch_debounce_ms``, the watcher asks the engine for an
incremental run: a normal run, shown in F2 and ``status``, whose content hashes decide what is
embedded again (a touch or an identical rewrite embeds nothing). The run is fed with the
changed paths: it reads only them (and walks a directory that came), not the whole tree.
Changes during a run make one more run after it. A new or removed directory, or an edited
ignore file, changes what is watched: the watch list is made again, and as changes made while
it was being made are not seen, the next run walks every root (as does a burst of more than
``FULL_WALK_PATHS`` paths: the kernel's event queue may have overflowed, which watchfiles does
not report).

When the engine starts, each watched collection gets a catch-up run first (the store is the
truth, so what changed while nothing watched is picked up). A root that disappears deletes
nothing (the run keeps the points of a root it cannot open): the watcher says so and waits for
it to come back. When the OS limit on inotify watches is too low for a tree, that collection is
polled instead, and the watcher says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path
from typing import Any

from roocode_tui.core.files.discovery import IGNORE_FILES

LOG = logging.getLogger("roocode_tui.engine")
MAX_HOLD_S = 10.0  # changes that never stop still sync this often
ROOT_POLL_S = 2.0  # how often a missing root is looked for
#: A sync run that fails is tried again after these pauses; after the last, the watcher waits
#: for the next change to the files (or `watch NAME`) and says why in status and F2.
SYNC_RETRY_S = (5.0, 30.0, 120.0, 600.0)
WATCH_RETRIES = 30  # a watch that cannot be made (ROOT_POLL_S apart) before the watcher gives up
POLL_DELAY_MS = 1000  # the polling fallback's interval
# How long the watch thread waits for more changes before it hands a batch over (watchfiles'
# default). The debounce is the engine's own (engine.watch_debounce_ms). 200 ms cost 0.3 s of
# save-to-searchable and did not lower the idle CPU (bench/NOTES.md).
STEP_MS = 50
FULL_WALK_PATHS = 1000  # more changed paths than this: the run walks every root


def _now() -> str:
    from roocode_tui.core.stores.base import now_iso  # numpy with it: the engine has it loaded

    return now_iso()


def _watch_limit() -> int | None:
    try:
        return int(Path("/proc/sys/fs/inotify/max_user_watches").read_text().strip())
    except (OSError, ValueError):
        return None


# -- what is watched: pure functions of the roots ---------------------------------------------
def directories(index: Any, roots: list[Path], meta: Any) -> list[str]:
    """Every directory an index walk of ``roots`` goes into (``index``: the index settings;
    ``meta``: the collection's build record, for its globs)."""
    from roocode_tui.core.files.discovery import Walker

    out: list[str] = []
    for root in roots:
        walker = Walker(
            root,
            include=meta.include,
            exclude=meta.exclude,
            max_file_bytes=index.max_file_bytes,
            follow_symlinks=index.follow_symlinks,
            skip_dirs=index.skip_dirs,
        )
        out += [str(d) for d in walker.directories()]
    return out


def identity(roots: list[Path]) -> list[tuple[int, int] | None]:
    """Each root's (device, inode), None for one that is not there: another directory put in
    a root's place has another identity."""
    out: list[tuple[int, int] | None] = []
    for root in roots:
        try:
            st = root.stat()
            out.append((st.st_dev, st.st_ino))
        except OSError:
            out.append(None)
    return out


def by_root(roots: list[Path], paths: set[str]) -> dict[str, list[str]] | None:
    """{root: [changed paths relative to it]} for a run fed with them; None: walk every root."""
    if len(paths) > FULL_WALK_PATHS:
        return None
    names = sorted((str(r) for r in roots), key=len, reverse=True)
    out: dict[str, list[str]] = {r: [] for r in names}
    for path in paths:
        root = next((r for r in names if path.startswith(r + os.sep)), None)
        if root is None:
            return None  # a root itself, or a path outside them all
        out[root].append(path[len(root) + 1 :].replace(os.sep, "/"))
    return out


class Watcher:
    """One watched collection."""

    def __init__(self, engine: Any, name: str):
        self.engine = engine
        self.name = name
        self.state = "starting"  # idle, syncing, waiting for the embedder, polling, root missing
        self.reason = ""  # why polling, which root is missing
        self.pending: set[str] = set()  # paths changed since the last run began
        self.last_event = 0.0  # monotonic time of the latest change
        self.first_event = 0.0  # of the first change not yet synced
        self.last_sync: str | None = None
        self.syncs = 0  # runs this watcher started (the catch-up included)
        self.polling = False
        self.dirty = False  # changed during a run: one more run after it
        self.failures = 0  # sync runs failed in a row
        self._retry: asyncio.TimerHandle | None = None
        self.dirs: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._syncer: asyncio.Task[None] | None = None
        self._run_id: str | None = None
        self._in_flight: set[str] = set()  # the changes the running sync was started for
        self.full = True  # the next run walks every root (the first one: a catch-up)
        self._in_flight_full = False
        self._listed = 0  # how many times the watch list was made
        self.roots: list[Path] = []

    # -- what faces see ----------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        state = self.state
        run = self.engine.run_of(self._run_id) if self._run_id else None
        if run is not None and run.progress.active:
            state = "waiting for the embedder" if run.progress.waiting else "syncing"
        elif self.pending and state not in ("root missing",):
            state = "changes pending"
        return {
            "collection": self.name,
            "state": state,
            "reason": self.reason,
            "polling": self.polling,
            "pending": len(self.pending),
            "last_sync": self.last_sync,
            "syncs": self.syncs,
            "directories": len(self.dirs),
        }

    # -- lifetime ----------------------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name=f"watch-{self.name}")
        self._syncer = asyncio.create_task(self._sync_loop(), name=f"sync-{self.name}")

    def resume(self) -> None:
        """`watch NAME` on a collection already watched: a watch that gave up is made again,
        and syncs that gave up are tried again at once."""
        if self._task is not None and self._task.done():
            self._task = asyncio.create_task(self._watch(), name=f"watch-{self.name}")
        if self.failures > len(SYNC_RETRY_S):
            self.failures = 0
            self.changed(catch_up=True)

    def _cancel_retry(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None

    async def stop(self) -> None:
        self._cancel_retry()
        for task in (self._task, self._syncer):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # -- the watch ---------------------------------------------------------------------------
    async def _target(self) -> tuple[list[Path], Any]:
        """The collection's roots (as recorded: they may be missing) and its build record."""
        from roocode_tui.core.errors import CollectionNotFoundError

        store, _ = await self.engine.backends()
        meta = await store.get_meta(self.name)
        if meta is None:
            raise CollectionNotFoundError(f"collection {self.name!r} does not exist")
        self.roots = [Path(r) for r in meta.paths]
        return self.roots, meta

    async def _watch(self) -> None:
        failed = 0
        while True:
            try:
                await self._watch_once()
                failed = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # say why, and try again a while
                failed += 1
                if failed >= WATCH_RETRIES:
                    self.state = "failed"
                    self.reason = (
                        f"watching failed {failed} times in a row ({exc}): stopped; "
                        f"`roocode-tui watch {self.name}` starts it again"
                    )
                    LOG.error("watch %s: %s", self.name, self.reason)
                    return
                self.reason = f"watching failed: {exc}"
                LOG.warning("watch %s: %s; again in %.0f s", self.name, exc, ROOT_POLL_S)
                await asyncio.sleep(ROOT_POLL_S)

    async def _watch_once(self) -> None:
        """Watch until what is watched must change (a directory came or went, an ignore file
        changed, a root went or came back)."""
        import watchfiles

        roots, meta = await self._target()
        missing = [r for r in roots if not r.is_dir()]
        if missing:
            names = ", ".join(map(str, missing))
            self.state, self.reason = "root missing", f"{names} is not there: nothing is deleted"
            LOG.warning("watch %s: %s", self.name, self.reason)
            while any(not r.is_dir() for r in missing):
                await asyncio.sleep(ROOT_POLL_S)
            LOG.info("watch %s: %s is back", self.name, names)
            self.state, self.reason = "idle", ""
            self.full = True
            self.changed(catch_up=True)
            return
        dirs = await asyncio.to_thread(directories, self.engine.settings.index, roots, meta)
        self.dirs = set(dirs)
        # Changes while the list was being made were not seen: the next run walks every root.
        # The first list: that run is the catch-up (after the list, so nothing falls between).
        self.full = True
        self.changed(catch_up=not self._listed)
        self._listed += 1
        limit = _watch_limit()
        if limit is not None and len(dirs) > limit // 2:  # leave the other half to other programs
            self.polling = True
            self.reason = (
                f"{len(dirs):,} directories and fs.inotify.max_user_watches is {limit:,}: polling every "
                f"{POLL_DELAY_MS / 1000:g} s (raise it: sysctl fs.inotify.max_user_watches=524288)"
            )
            LOG.warning("watch %s: %s", self.name, self.reason)
        elif not self.polling:
            self.reason = ""
        self.state = "polling" if self.polling else "idle"
        stop = asyncio.Event()
        guard = asyncio.create_task(self._guard(roots, stop))
        try:
            async for changes in watchfiles.awatch(
                *dirs,
                watch_filter=None,
                recursive=False,
                debounce=1600,
                step=STEP_MS,
                stop_event=stop,
                force_polling=self.polling,
                poll_delay_ms=POLL_DELAY_MS,
                ignore_permission_denied=True,
            ):
                if self._take(changes, roots):
                    return  # what is watched changed: make the list again
        except (OSError, RuntimeError) as exc:
            text = str(exc)
            if not self.polling and ("limit" in text.lower() or "No space left" in text):  # out of watches
                self.polling = True
                self.reason = f"the OS limit on inotify watches was reached ({text}): polling"
                LOG.warning("watch %s: %s", self.name, self.reason)
                return
            raise
        finally:
            stop.set()
            guard.cancel()
        if any(not r.is_dir() for r in roots):
            self.changed()  # a root went: the next watch says so (and its points stay)

    async def _guard(self, roots: list[Path], stop: asyncio.Event) -> None:
        """A root that goes, or is replaced by another directory, sends no event from inside:
        look at the roots themselves every few seconds and make the watch again when they change."""
        first = identity(roots)
        while not stop.is_set():
            await asyncio.sleep(ROOT_POLL_S)
            if identity(roots) != first:
                stop.set()
                return

    def _take(self, changes: set[tuple[Any, str]], roots: list[Path]) -> bool:
        """Note a batch of changes; True when the watch list must be made again."""
        import watchfiles

        restructure = False
        for change, path in changes:
            name = os.path.basename(path)
            if path in self.dirs or name in IGNORE_FILES:
                restructure = True  # a watched directory went or changed, or an ignore file did
            elif change == watchfiles.Change.added and os.path.isdir(path):
                restructure = True
            self.pending.add(path)
        if any(not r.is_dir() for r in roots):
            restructure = True
        self.failures = 0  # a change: syncs are tried again, from the first pause
        self._cancel_retry()
        self.changed()
        return restructure

    def changed(self, *, catch_up: bool = False) -> None:
        now = time.monotonic()
        if not self.first_event:
            self.first_event = now
        self.last_event = now - (10.0 if catch_up else 0.0)  # a catch-up does not wait
        self._wake.set()

    # -- syncing -----------------------------------------------------------------------------
    async def _sync_loop(self) -> None:
        quiet = self.engine.settings.engine.watch_debounce_ms / 1000
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:  # until the files have been quiet for the debounce (or changes never stop)
                now = time.monotonic()
                wait = min(self.last_event + quiet, self.first_event + MAX_HOLD_S) - now
                if wait <= 0:
                    break
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=wait)
            if self.state == "root missing" and self.reason:
                self.first_event = 0.0
                continue  # it syncs when the root is back
            await self._sync()

    async def _sync(self) -> None:
        if any(not r.is_dir() for r in self.roots):
            return  # the watch says a root is missing; it syncs when the root is back
        if self.engine.writing(self.name):
            self.dirty = True  # the run that ends next starts another
            return
        self.first_event = 0.0
        started, self.pending = self.pending, set()
        full, self.full = self.full, False
        changes = None if full else by_root(self.roots, started)
        try:
            snap = await self.engine.start_run(
                [],
                self.name,
                rebuild=False,
                schema="native",
                cwd=str(Path.home()),
                started_by="watcher",
                changes=changes,
            )
        except Exception as exc:  # one line in the log and in status; the next change tries again
            self.pending |= started
            self.full = self.full or full
            self.reason = f"sync failed to start: {exc}"
            LOG.warning("watch %s: %s", self.name, self.reason)
            return
        self._run_id, self._in_flight, self._in_flight_full = snap.id, started, changes is None
        self.syncs += 1

    def run_ended(self, run_id: str, phase: str, message: str = "") -> None:
        """The engine tells: a run of this collection ended."""
        if run_id == self._run_id:
            if phase == "done":
                self.last_sync = _now()
                self.failures = 0
                self._cancel_retry()
                if self.reason.startswith("sync"):
                    self.reason = ""
            else:  # failed or cancelled: its changes are still to sync
                self.pending |= self._in_flight
                self.full = self.full or self._in_flight_full
            self._in_flight = set()
            if phase == "failed":
                self.failures += 1
                why = message or "see the engine log"
                if self.failures > len(SYNC_RETRY_S):
                    self.reason = (
                        f"sync failed {self.failures} times in a row ({why}); the next change to the files, "
                        f"or `roocode-tui watch {self.name}`, tries again"
                    )
                    LOG.error("watch %s: %s", self.name, self.reason)
                    return
                pause = SYNC_RETRY_S[self.failures - 1]
                self.reason = f"sync failed ({why}); trying again in {pause:.0f} s"
                LOG.warning("watch %s: %s", self.name, self.reason)
                self._cancel_retry()
                self._retry = asyncio.get_running_loop().call_later(pause, lambda: self.changed(catch_up=True))
                return
        if self.dirty or self.pending:
            self.dirty = False
            self.changed(catch_up=True)


class Watchers:
    """The engine's watchers, one per watched collection."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.by_name: dict[str, Watcher] = {}

    def configured(self, name: str) -> bool:
        return any(c.name == name and c.watch for c in self.engine.settings.collections)

    async def start_all(self) -> None:
        """At the engine's start: every collection set to be watched (its choice, or the config's)."""
        store = self.engine.open_store()
        if store is None:
            return
        for name in await store.list_collections():
            meta = await store.get_meta(name)
            if meta is None:
                continue
            if meta.watch or (meta.watch is None and self.configured(name)):
                self.start(name)

    def start(self, name: str) -> None:
        if name in self.by_name:
            self.by_name[name].resume()
        else:
            watcher = Watcher(self.engine, name)
            self.by_name[name] = watcher
            watcher.start()
            LOG.info("watching %s", name)

    async def stop(self, name: str | None = None) -> None:
        names = [name] if name is not None else list(self.by_name)
        for n in names:
            watcher = self.by_name.pop(n, None)
            if watcher is not None:
                await watcher.stop()
                LOG.info("stopped watching %s", n)

    def run_ended(self, name: str, run_id: str, phase: str, message: str = "") -> None:
        watcher = self.by_name.get(name)
        if watcher is not None:
            watcher.run_ended(run_id, phase, message)

    def to_json(self) -> list[dict[str, Any]]:
        return [w.to_json() for w in self.by_name.values()]

    def beat(self) -> dict[str, list[Any]]:
        """{collection: [state, changed files]} for the watch stream (F1's status line, F4)."""
        out = {}
        for w in self.by_name.values():
            j = w.to_json()
            out[w.name] = [j["state"], j["pending"]]
        return out


def behind_line(state: str, pending: int) -> str:
    """What F1's status line says of a watched collection that is not in sync ("" when it is)."""
    files = f"{pending} file{'s' if pending != 1 else ''} changed"
    if state in ("syncing", "waiting for the embedder"):
        return f"{files}, {state}" if pending else state
    if state == "changes pending":
        return f"{files}, syncing soon"
    if state == "root missing":
        return "watched root missing"
    return ""
