"""Handing the C heap's free memory back to the system after a run.

glibc keeps memory that a run freed (pandas frames, a compiled problem evicted, its solver
instances, scipy matrices, the store's row buffers) in its heaps for reuse, one heap per
thread that allocated. The next run's allocations have other sizes and come from other
threads, so the kept memory fragments and the process's resident size creeps up run after
run although nothing is live. ``malloc_trim(0)`` returns every free page of every heap to the
system. Where the C library is not glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from typing import Any


def trim() -> None:
    """Return the C heaps' free pages to the system (glibc's ``malloc_trim(0)``)."""
    function = _malloc_trim()
    if function is not None:
        function(0)


@functools.cache
def _malloc_trim() -> Any:
    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_trim", None)
    except OSError:
        return None
