"""Give memory freed by big transient work (an index run, a rebuild) back to the system.

glibc's malloc keeps freed heap memory for reuse, in one arena per thread that allocated it.
After an index run the store's writes, the walker and the HTTP answers have freed hundreds of
megabytes that stay resident otherwise: a TUI that indexes again and again for hours would
look like it leaks (measured by bench/soak.py). ``malloc_trim(0)`` returns the free pages of
every arena. Elsewhere (musl, macOS) there is nothing to do.
"""

from __future__ import annotations

import ctypes
import sys


def release_freed_memory() -> bool:
    """Return the free pages of malloc's heaps to the system; False where that is not possible."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)
    return True
