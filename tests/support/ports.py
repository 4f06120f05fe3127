"""TCP ports for the servers a test starts (services, emulated Modbus devices).

A port the kernel hands out for ``bind(("127.0.0.1", 0))`` lies in the ephemeral range, which
every outgoing connection of every process draws from too: between the test closing its
probe and its server binding, another process's connection (another pytest-xdist worker's
database or broker client) may take it ("address already in use"). So ports come from a
block below the ephemeral range (Linux's default starts at 32768), one block per xdist
worker, each checked free before it is handed out and never handed out twice in a process.
"""

from __future__ import annotations

import itertools
import os
import socket

FIRST_PORT = 20000
BLOCK = 1500
"""Ports per worker: 20000-21499 for the first (or no) worker, 21500-22999 for the next, ..."""


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw0", "gw1", ...
    digits = worker.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


_candidates = itertools.cycle(
    range(FIRST_PORT + _worker_index() * BLOCK, FIRST_PORT + (_worker_index() + 1) * BLOCK)
)
_given: set[int] = set()


def free_port() -> int:
    """A port of this worker's block that nothing listens on and this process has not given."""
    for _ in range(BLOCK):
        port = next(_candidates)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port left in this worker's block of {BLOCK}")
