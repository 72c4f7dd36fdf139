"""Keep a long-lived process's memory flat: tune glibc's malloc, and hand freed memory back.

Two things made the TUI's RSS climb run after run under glibc (measured by bench/soak.py):

- Its dynamic mmap threshold. A big block (an HTTP answer, a batch of vectors, a segment the
  store builds) is first served by mmap; once such a block is freed, glibc raises the threshold
  to its size, and from then on blocks that big come from the heaps, where they leave holes
  that the next, slightly different run cannot reuse. A fixed threshold (glibc's own starting
  value, 128 KiB) keeps big blocks in mmap, given back the moment they are freed.
- One heap (arena) per thread, up to eight per core. The walker, the HTTP client and the
  store's own threads each fragment an arena of their own. Two arenas are plenty here: the
  threads mostly take turns under the GIL.

``tune_allocator()`` sets both at start-up unless the user set them already
(``MALLOC_ARENA_MAX``, ``MALLOC_MMAP_THRESHOLD_``). ``release_freed_memory()`` (after an index
run) returns the free pages of every arena. Elsewhere (musl, macOS) there is nothing to do.

A third thing made a watched collection's engine climb: the embedded store's write-ahead log,
32 MB files mapped into the process, each write touching the next pages. Once written they are
never read again (until the store is next opened), yet they stay resident, a 32 MB saw-tooth
per log file. ``release_mapped_pages()`` tells the kernel the process is done with such pages
(``madvise(MADV_DONTNEED)`` on shared file mappings: the data stays in the file and the page
cache, nothing is lost; a later access reads it back).
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
M_ARENA_MAX = -8
MADV_DONTNEED = 4
MMAP_THRESHOLD = 128 * 1024
ARENA_MAX = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """glibc, with the signatures used here; None elsewhere (musl has no mallopt, macOS neither)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.madvise.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


@functools.cache
def tune_allocator() -> bool:
    """Fixed mmap threshold and two arenas (see the module docstring); once per process.

    False where the allocator is not glibc's. A setting the user made through glibc's own
    environment variables is left as it is."""
    libc = _libc()
    if libc is None:
        return False
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    if "MALLOC_ARENA_MAX" not in os.environ:
        libc.mallopt(M_ARENA_MAX, ARENA_MAX)
    return True


def release_freed_memory() -> bool:
    """Return the free pages of malloc's heaps to the system; False where that is not possible."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def release_mapped_pages(under: str, part: str) -> int:
    """Drop this process's resident pages of shared file mappings whose path starts with
    ``under`` and contains ``part`` (see the module docstring); the bytes of mappings advised.

    Only shared mappings: their writes are in the file already. A private mapping would lose
    its changes, so it is never touched."""
    libc = _libc()
    if libc is None:
        return 0
    done = 0
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            lines = fh.readlines()
    except OSError:
        return 0
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or fields[1][3:4] != "s":
            continue
        path = fields[5].rstrip("\n")
        if not path.startswith(under) or part not in path:
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if libc.madvise(start, end - start, MADV_DONTNEED) == 0:
            done += end - start
    return done
