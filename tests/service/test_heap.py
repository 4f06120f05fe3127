"""The C heap's free memory goes back to the system after a run (controller.service.heap)."""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

import pytest

from controller.service import heap

BLOCK_BYTES = 4_000  # below glibc's mmap threshold: these come from the heap itself
BLOCKS = 25_000  # 100 MB
RETURNED_AT_LEAST = 0.5
"""Of the memory freed, at least this share must leave the resident set: chunk headers, the
heap's kept top and pages another allocation shares stay behind."""


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(
    heap._malloc_trim() is None or not Path("/proc/self/status").exists(),
    reason="glibc's malloc_trim and /proc are what this tests",
)
def test_memory_freed_inside_the_heap_leaves_the_resident_set() -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = []
    for _ in range(BLOCKS):
        block = libc.malloc(BLOCK_BYTES)
        assert block
        ctypes.memset(block, 1, BLOCK_BYTES)  # touched: resident
        blocks.append(block)
    for block in blocks[:-1]:  # the last one keeps the freed space from the heap's top
        libc.free(block)
    before = _rss_bytes()
    heap.trim()
    after = _rss_bytes()
    libc.free(blocks[-1])
    freed = (BLOCKS - 1) * BLOCK_BYTES
    assert before - after >= RETURNED_AT_LEAST * freed, (
        f"the resident set fell by {(before - after) / 1e6:.1f} MB of {freed / 1e6:.0f} MB freed"
    )
