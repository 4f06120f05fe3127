"""A package's public API loaded on first use: the one definition of the module-level
``__getattr__`` and ``__dir__`` that ``controller``, ``forecasting``, ``network_models`` and
``sim`` export their names with, so that importing one light module of a package (the
command line's ``controller.kinds``) does not load the whole of it."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any


def lazy_api(
    package: str, home: Mapping[str, str], namespace: MutableMapping[str, Any], names: Sequence[str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: each public name in ``names`` is
    imported from its module in ``home`` when it is first read and kept in ``namespace`` (the
    package's globals)."""

    def getattr_(name: str) -> object:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted([*namespace, *names])

    return getattr_, dir_
