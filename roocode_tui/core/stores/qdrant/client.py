"""The connection to a Qdrant server (or qdrant-client's local mode), and its retries.

Every call to a server goes through one retry wrapper (:class:`_Retrying`): a refused or cut
connection, a timeout, an unreadable answer, 429 (after its Retry-After) and 502/503/504 are
tried again with exponential backoff and jitter, at most ``RETRY_ATTEMPTS`` tries within
``store.patience_s`` seconds; then one StoreError line names the server and its last answer.
Other answers (400, 401/403, 404, 409, 500) fail at once. A server that has never answered is
given ``FIRST_CONTACT_S`` at most, so a wrong URL fails fast. Retried writes are idempotent:
points are upserted and deleted by id, payloads set by id, an alias is overwritten by the same
alias, deleting what is gone is no error; a create answered 409 after a try whose answer was
lost counts as done.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from roocode_tui.core.config import StoreSettings
from roocode_tui.core.errors import CollectionNotFoundError, StoreBusyError, StoreError

MIN_SERVER = (1, 16, 0)  # collection metadata

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
RETRY_ATTEMPTS = 20  # tries of one call at most, however long store.patience_s is
RETRY_FIRST_S = 0.5  # the first pause; it doubles after each failed try...
RETRY_MAX_S = 10.0  # ...up to this, each one jittered by +-25%
FIRST_CONTACT_S = 2.0  # patience with a server that has never answered (a wrong URL fails fast)

LOG = logging.getLogger("roocode_tui.store")


@dataclasses.dataclass(frozen=True, slots=True)
class _Failure:
    """What went wrong with one call, in one line; ``transient``: worth another try."""

    reason: str
    transient: bool
    status: int | None = None  # the HTTP status the server answered (None: no answer)
    retry_after: float | None = None
    unreachable: bool = False  # no connection at all


def _answer_text(content: bytes) -> str:
    """The error a server's answer carries: Qdrant's ``status.error``, or its text (HTML stripped)."""
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("status"), dict) and body["status"].get("error"):
        return str(body["status"]["error"])
    text = re.sub(r"<[^>]+>", " ", content.decode("utf-8", "replace"))
    text = re.sub(r"\s+", " ", text).strip()
    if m := re.match(r"^(\d{3} [^<]+?)(?: \1)?(?: nginx)?$", text):  # an nginx page: "502 Bad Gateway"
        text = m.group(1)
    return text[:300]


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("retry-after") if headers is not None else None
        return max(0.0, float(value)) if value else None
    except (TypeError, ValueError):
        return None  # an HTTP date: the backoff decides


def _failure(exc: Exception, timeout_s: float) -> _Failure:
    """Classify what a qdrant-client call raised."""
    import httpx
    from qdrant_client.common.client_exceptions import ResourceExhaustedResponse
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    if isinstance(exc, ResourceExhaustedResponse):  # 429 with a Retry-After
        return _Failure(f"HTTP 429: {exc}", True, 429, float(exc.retry_after_s))
    if isinstance(exc, UnexpectedResponse):
        status = exc.status_code
        detail = _answer_text(exc.content) or exc.reason_phrase
        return _Failure(
            f"HTTP {status}" + (f": {detail}" if detail else ""),
            status in TRANSIENT_STATUS,
            status,
            _retry_after(exc.headers),
        )
    source = exc.source if isinstance(exc, ResponseHandlingException) else exc
    if isinstance(source, httpx.TimeoutException):
        return _Failure(f"no answer within {timeout_s:g}s", True)
    if isinstance(source, httpx.ConnectError):
        why = str(source).splitlines()[0] if str(source) else type(source).__name__
        if "CERTIFICATE_VERIFY_FAILED" in why or "certificate verify failed" in why:
            # Not transient: the same certificate fails every time.
            return _Failure(
                f"its TLS certificate is not trusted ({why}): set store.ca_cert to its CA's PEM file "
                "(or store.verify_tls = false)",
                False,
                unreachable=True,
            )
        return _Failure(f"connection failed ({why})", True, unreachable=True)
    if isinstance(source, httpx.TransportError):
        return _Failure(f"connection lost without an answer ({type(source).__name__})", True)
    if isinstance(source, json.JSONDecodeError):
        return _Failure(f"the answer is not valid JSON ({source.msg} at character {source.pos})", True)
    text = str(exc)
    if "Retry-After" in text:  # a 429 whose Retry-After qdrant-client could not read
        return _Failure("HTTP 429: rate limited", True, 429)
    return _Failure(text.splitlines()[0] if text else type(exc).__name__, False)


class _Retrying:
    """The qdrant-client client with each method call run through :meth:`QdrantConnection._retry`."""

    def __init__(self, store: QdrantConnection, client: Any):
        self._store = store
        self._client = client

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not inspect.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await self._store._retry(name, attr, args, kwargs)

        return call


class QdrantConnection:
    """The client, each call's errors told in one line, and the server's outages waited out."""

    def __init__(self, settings: StoreSettings):
        self.settings = settings
        self._client: Any = None
        self._checked = False
        self._api_key = settings.api_key.get_secret_value() if settings.api_key else None
        self._answered = False  # the server has answered once (its outages are waited out)

    # -- connection --------------------------------------------------------------------------
    @property
    def where(self) -> str:
        s = self.settings
        return f"Qdrant at {s.url}" if s.url else f"Qdrant local mode at {s.data_dir}"

    def _mask(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    async def client(self) -> Any:
        """The client; with a server, each call is retried as the module's docstring says."""
        if self._client is None:
            from qdrant_client import AsyncQdrantClient

            s = self.settings
            if s.url:
                kwargs: dict[str, Any] = {
                    "url": s.url,
                    "api_key": self._api_key,
                    "timeout": int(s.timeout_s),
                    "prefer_grpc": s.prefer_grpc,
                }
                if s.https is not None:
                    kwargs["https"] = s.https
                if not s.verify_tls or s.ca_cert:
                    kwargs["verify"] = str(s.ca_cert) if s.ca_cert else False
                kwargs["check_compatibility"] = False  # checked here, with a clearer message
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    self._client = _Retrying(self, AsyncQdrantClient(**kwargs))
            else:
                s.data_dir.mkdir(parents=True, exist_ok=True)
                try:
                    self._client = AsyncQdrantClient(path=str(s.data_dir))
                except RuntimeError as exc:
                    if "already accessed" in str(exc):
                        raise StoreBusyError(
                            f"{self.where} is open in another process (local mode allows one at a "
                            "time): close it, or use a Qdrant server (store.url)"
                        ) from None
                    raise StoreError(f"{self.where}: {exc}") from None
        if not self._checked:
            if self.settings.url:
                await self._check_server()
            self._checked = True
        return self._client

    async def server_version(self) -> str | None:
        if not self.settings.url:
            return None  # local mode: no server

        async def run(c: Any) -> str:
            return str((await c.info()).version)

        return await self._do(run)

    async def _check_server(self) -> None:
        try:
            info = await self._client.info()
        except StoreError:
            raise
        except Exception as exc:
            raise self._translate(exc) from None
        version = tuple(int(x) for x in re.findall(r"\d+", str(info.version))[:3])
        if version and version < MIN_SERVER:
            raise StoreError(
                f"{self.where} is version {info.version}; roocode-tui needs Qdrant "
                f"{'.'.join(map(str, MIN_SERVER))} or newer (collection metadata)"
            )

    def _translate(self, exc: Exception, gave_up: str = "") -> StoreError:
        """One line naming the server and what it answered (the API key masked)."""
        f = _failure(exc, self.settings.timeout_s) if self.settings.url else None
        text = self._mask(f.reason if f else (str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        if f is not None and f.status in (401, 403):
            return StoreError(f"{self.where}: unauthorised ({text}): check store.api_key{gave_up}")
        if f is not None and f.status == 404 and "Not found: Collection" in text:
            return CollectionNotFoundError(f"{self.where}: {text.removeprefix('HTTP 404: ')}")
        if f is not None and (f.unreachable or (f.transient and f.status is None)):
            return StoreError(f"{self.where} is unreachable: {text}{gave_up}")
        return StoreError(f"{self.where}: {text}{gave_up}")

    async def _retry(self, name: str, method: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Run one client call; transient failures are tried again (see the module's docstring)."""
        started = time.monotonic()
        pause = RETRY_FIRST_S
        retried = False
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                result = await method(*args, **kwargs)
            except Exception as exc:
                failure = _failure(exc, self.settings.timeout_s)
                self._answered = self._answered or failure.status is not None
                if not failure.transient:
                    if retried and self._done_before(name, failure):
                        return True
                    raise
                patience = (
                    self.settings.patience_s if self._answered else min(self.settings.patience_s, FIRST_CONTACT_S)
                )
                elapsed = time.monotonic() - started
                left = patience - elapsed  # the last pause is cut short: one more try at the deadline
                if attempt == RETRY_ATTEMPTS or left <= 0:
                    raise self._translate(exc, f" (gave up after {attempt} tries in {elapsed:.1f}s)") from None
                if failure.retry_after is not None and failure.retry_after > left:
                    why = f"it asks for {failure.retry_after:g}s more, past store.patience_s"
                    raise self._translate(exc, f" ({why})") from None
                backoff = pause * random.uniform(0.75, 1.25)
                wait = min(left, failure.retry_after if failure.retry_after is not None else backoff)
                LOG.warning("%s: %s; try %d in %.1fs", self.where, self._mask(failure.reason), attempt + 1, wait)
                await asyncio.sleep(wait)
                pause = min(RETRY_MAX_S, pause * 2)
                retried = True
            else:
                self._answered = True
                return result
        raise AssertionError("unreachable")  # the loop returns or raises

    @staticmethod
    def _done_before(name: str, failure: _Failure) -> bool:
        """After a try whose answer was lost, is the next try's refusal the first one's work?"""
        # Physical names are fresh per creation, so only the lost try can have made it. (Alias
        # changes need no such care: Qdrant overwrites an alias and deletes a missing one quietly.)
        return name == "create_collection" and failure.status == 409

    async def _do(self, fn: Any) -> Any:
        client = await self.client()
        try:
            return await fn(client)
        except StoreError:
            raise
        except Exception as exc:
            text = str(exc).lower()
            if not self.settings.url and "not found" in text and "collection" in text:  # local mode's ValueError
                raise CollectionNotFoundError(f"{self.where}: {self._mask(str(exc)).splitlines()[0]}") from None
            raise self._translate(exc) from None

    async def call(self, fn: Any) -> Any:
        """Run ``fn(client)`` with this store's error messages (for Roo Code's collections)."""
        return await self._do(fn)

    async def close(self) -> None:
        if self._client is not None:
            try:
                await self._client.close()
            finally:
                self._client = None


SCROLL_PAGE = 2048  # points a page of a scan


async def scan(c: Any, name: str, flt: Any, *, with_payload: Any, with_vectors: Any = False) -> AsyncIterator[Any]:
    """Every point of a collection under a filter, page by page (``c``: the qdrant-client of a
    ``store.call``)."""
    offset = None
    while True:
        records, offset = await c.scroll(
            name,
            scroll_filter=flt,
            limit=SCROLL_PAGE,
            offset=offset,
            with_payload=with_payload,
            with_vectors=with_vectors,
        )
        for rec in records:
            yield rec
        if offset is None:
            return
