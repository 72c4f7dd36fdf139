"""The thin path of a face: `roocode-tui search` answered by a running engine with Python's
built-in modules alone (``_socket``, ``zlib``: nothing read from disk but this file), so that a
script or an agent asking many questions pays for starting Python and little more. No
pydantic, httpx, asyncio, json, http.client or even ``socket`` (which pulls in enum and
selectors) is imported: ``roocode_tui/entry.py`` writes one HTTP/1.1 request on the Unix
socket before the command line's parser is built, and the engine answers with the very bytes
the command prints.

Whether the engine has this face's settings is decided without loading them: both sides hash
the inputs the settings come from (the config file's bytes, the ``ROOCODE_TUI_*`` variables,
HOME and the XDG dirs). Equal inputs mean equal settings; when they differ (or anything else is
unusual) the command takes the full path, which loads the settings and compares the results.
"""

from __future__ import annotations

import os
import sys
import zlib

from roocode_tui import __version__

TYPE_CHECKING = False  # not typing's: the thin path imports nothing it can do without
if TYPE_CHECKING:
    import subprocess

IDENTITY_HEADER = "X-Roocode-Identity"
_ENV_KEYS = ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


class Unexpected(Exception):
    """Anything the thin path does not expect: the command takes the full path."""


def config_file(explicit: str | None) -> str:
    """The config file a command reads (as config.load_settings chooses it)."""
    chosen = explicit or os.environ.get("ROOCODE_TUI_CONFIG")
    if chosen:
        return os.path.expanduser(chosen)
    if sys.platform == "linux":  # platformdirs' answer there, without importing it
        base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
        return os.path.join(base, "roocode-tui", "config.toml")
    import platformdirs

    return os.path.join(platformdirs.user_config_dir("roocode-tui"), "config.toml")


def _config_bytes(path: str) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None


def identity(explicit_config: str | None, data: bytes | None = None) -> str:
    """A digest of what a process's settings are made from (the [engine] keys apart). Not a
    secret and not a defence (the socket's owner is checked): it tells equal inputs apart from
    different ones."""
    path = config_file(explicit_config)
    data = _config_bytes(path) if data is None else data
    where = os.path.realpath(path) if data is not None else ""
    env = sorted(
        f"{k}={v}"
        for k, v in os.environ.items()
        if (k.startswith("ROOCODE_TUI_") and not k.startswith("ROOCODE_TUI_ENGINE__")) or k in _ENV_KEYS
    )
    blob = "\0".join([__version__, where, *env]).encode("utf-8", "surrogateescape") + b"\0\0" + (data or b"")
    return f"{zlib.crc32(blob):08x}{zlib.adler32(blob):08x}{len(blob):x}"


def store_key(backend: str, url: str | None, data_dir: str) -> str:
    """What an engine serves: a Qdrant server's URL, or the backend and the real path of the
    data dir. Faces of one store share one engine; faces of another store get another."""
    if backend == "qdrant" and url:
        return f"qdrant {url.rstrip('/')}"
    return f"{backend} {os.path.realpath(os.path.expanduser(data_dir))}"


def engine_tag(key: str) -> str:
    """The short name of the engine of a store (its socket, lock and log are named by it)."""
    return f"{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}"


def socket_path(explicit_config: str | None, data: bytes | None = None) -> str | None:
    """The engine's socket as the settings would give it; None when the engine is off here or
    the config needs the full path to be understood."""
    engine: dict[str, object] = {}
    store: dict[str, object] = {}
    path = config_file(explicit_config)
    if data is None:
        data = _config_bytes(path)
    if data and (b"engine" in data or b"store" in data):  # only then is the TOML worth parsing
        import tomllib

        try:
            parsed = tomllib.loads(data.decode("utf-8"))
        except ValueError:
            return None
        engine, store = parsed.get("engine", {}), parsed.get("store", {})
        if not isinstance(engine, dict) or not isinstance(store, dict):
            return None
    enabled = os.environ.get("ROOCODE_TUI_ENGINE__ENABLED", str(engine.get("enabled", True))).strip().lower()
    if enabled in ("0", "false", "no", "off"):
        return None
    configured = os.environ.get("ROOCODE_TUI_ENGINE__SOCKET") or engine.get("socket")
    if configured:
        return os.path.expanduser(str(configured))
    base = os.environ.get("XDG_RUNTIME_DIR")
    where = os.path.join(base, "roocode-tui") if base and os.path.isdir(base) else f"/tmp/roocode-tui-{os.getuid()}"
    return os.path.join(where, f"engine-{engine_tag(_store_key(store, path))}.sock")


#: Engines this command started before loading its settings (:func:`start_engine`), by socket:
#: ``engine/client.py``'s ``connect`` waits for that one instead of starting another.
STARTED: dict[str, subprocess.Popen[bytes]] = {}


def start_engine(explicit_config: str | None, read_only: bool = False, for_index: bool = False) -> None:
    """Start the engine for this command's settings now, when none runs: called before the
    settings are loaded, so the engine's start-up (~0.4 s: its imports, its settings, its
    server) overlaps the command's own instead of following it. ``for_index``: the engine also
    loads what an index run needs before it listens (``serve --for-index``). Only where the
    socket, and so the engine's log, is known without the settings (:func:`socket_path`);
    anything unusual leaves the start to ``connect``, which checks the settings."""
    try:
        sock = socket_path(explicit_config)
    except Unexpected:
        return
    name = os.path.basename(sock or "")
    if sock is None or os.environ.get("ROOCODE_TUI_ENGINE__SOCKET") or not name.startswith("engine-"):
        return
    if os.path.exists(sock) or sys.platform != "linux":
        return  # one runs (or starts): connect finds it
    state = os.environ.get("XDG_STATE_HOME", "").strip() or os.path.expanduser("~/.local/state")
    log = os.path.join(state, "roocode-tui", name[: -len(".sock")] + ".log")  # as paths.log_path names it
    config = config_file(explicit_config) if explicit_config or os.environ.get("ROOCODE_TUI_CONFIG") else None
    try:
        STARTED[sock] = launch(log, config, read_only, for_index)
    except OSError:
        pass  # connect starts it, and says why if it cannot


def launch(log: str, config: str | None, read_only: bool, for_index: bool = False) -> subprocess.Popen[bytes]:
    """``roocode-tui serve`` detached: its own session, no terminal, output appended to ``log``
    (made private). Every face starts its engine this way; ``for_index``: started for an index
    run (``serve --for-index``)."""
    import subprocess

    args = [sys.executable, "-m", "roocode_tui.cli", "serve"]
    if config is not None:
        args += ["--config", config]
    if read_only:
        args.append("--read-only")
    if for_index:
        args.append("--for-index")
    os.makedirs(os.path.dirname(log), exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        return subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, start_new_session=True, close_fds=True
        )
    finally:
        os.close(fd)


def stop_unused() -> None:
    """Stop the engines :func:`start_engine` started that ``connect`` never took (the command
    failed first: a bad config, a read-only refusal, an engine turned off by the config)."""
    for proc in STARTED.values():
        try:
            proc.terminate()
            proc.wait(timeout=10)
        except Exception:  # gone already, or slow to stop: it exits on its own
            pass
    STARTED.clear()


def _store_key(table: dict[str, object], config: str) -> str:
    """:func:`store_key` from the config file's [store] and the environment, as the settings
    would resolve them (a relative path is relative to the config file)."""
    backend = str(os.environ.get("ROOCODE_TUI_STORE__BACKEND") or table.get("backend") or "embedded")
    url = str(os.environ.get("ROOCODE_TUI_STORE__URL") or table.get("url") or "") or None
    configured = os.environ.get("ROOCODE_TUI_STORE__PATH")
    if not configured and table.get("path"):
        configured = os.path.join(os.path.dirname(os.path.realpath(config)), os.path.expanduser(str(table["path"])))
    if not configured:
        if sys.platform != "linux":
            raise Unexpected("the default data dir needs platformdirs")
        data_home = os.environ.get("XDG_DATA_HOME", "").strip() or os.path.expanduser("~/.local/share")
        configured = os.path.join(data_home, "roocode-tui")
    return store_key(backend, url, configured)


def json_string(text: str) -> str:
    """``text`` as a JSON string (what json.dumps gives, with non-ASCII kept as UTF-8)."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise Unexpected("not valid Unicode")  # an undecodable argument: the full path says so
    out = text.replace("\\", "\\\\").replace('"', '\\"')
    if any(ord(c) < 0x20 for c in out):
        out = "".join(c if ord(c) >= 0x20 else f"\\u{ord(c):04x}" for c in out)
    return f'"{out}"'


def request(path: str, target: str, body: bytes, headers: dict[str, str], timeout: float = 600) -> tuple[int, bytes]:
    """POST ``target`` over the Unix socket at ``path``: (status, body). One request per
    connection (Connection: close); the body comes by length or in chunks."""
    import _socket

    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    message = (
        f"POST {target} HTTP/1.1\r\nHost: engine\r\nConnection: close\r\nContent-Length: {len(body)}\r\n{head}\r\n"
    ).encode() + body
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(message)
        parts = []
        while chunk := sock.recv(262144):
            parts.append(chunk)
    except OSError as exc:
        raise Unexpected(str(exc)) from None
    finally:
        sock.close()
    top, sep, rest = b"".join(parts).partition(b"\r\n\r\n")
    try:
        lines = top.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if not sep:
            raise ValueError("no header")
        if "chunked" in fields.get("transfer-encoding", "").lower():
            out = bytearray()
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    return status, bytes(out)
                out += rest[:size]
                rest = rest[size + 2 :]
        if "content-length" in fields:
            return status, rest[: int(fields["content-length"])]
    except (ValueError, IndexError) as exc:
        raise Unexpected(f"unexpected answer: {exc}") from None
    return status, rest


def search_request(
    queries: list[str],
    collection: str | None,
    *,
    limit: int,
    path: str | None,
    lang: str | None,
    mode: str | None,
    cwd: str,
    ranking: bool | None = None,
    explain: bool = False,
    group_by: str | None = None,
    rerank: bool | None = None,
) -> dict[str, object]:
    """A search as every face asks it (POST /search's body; ``Engine.search``'s arguments)."""
    return {
        "queries": queries,
        "collection": collection,
        "limit": limit,
        "path": path,
        "lang": lang,
        "mode": mode,
        "cwd": cwd,
        "ranking": ranking,
        "explain": explain,
        "group_by": group_by,
        "rerank": rerank,
    }


def json_value(value: object) -> str:
    """``value`` (None, a bool, an int, a string, or a list or dict of them) as JSON, without
    the json module."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(json_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json_string(str(k))}: {json_value(v)}" for k, v in value.items()) + "}"
    raise Unexpected(f"cannot send {type(value).__name__}")


def search(
    explicit_config: str | None, asked: dict[str, object], *, out: str | None = None
) -> tuple[int, bytes] | None:
    """POST /search (``asked``: a :func:`search_request`) to the running engine: (HTTP status,
    body), or None to take the full path (no engine, another identity, anything unexpected).
    ``out="json-line"``: on success the body is exactly what ``search --json`` prints."""
    try:
        body = json_value(asked).encode("utf-8")
    except Unexpected:
        return None
    data = _config_bytes(config_file(explicit_config))
    try:
        path = socket_path(explicit_config, data)
    except Unexpected:
        return None
    if path is None or not os.path.exists(path):
        return None
    headers = {"Content-Type": "application/json", IDENTITY_HEADER: identity(explicit_config, data)}
    try:
        status, raw = request(path, "/search" + (f"?out={out}" if out else ""), body, headers)
    except Unexpected:
        return None
    if status == 409 and b'"IdentityMismatch"' in raw:
        return None
    return status, raw
