"""Shared base of every configuration model: strict, immutable, named."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# Asset, bus and site names: lower-case identifiers usable in column names (``pv_<name>_kw``).
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]


class StrictModel(BaseModel):
    """Unknown fields are errors; a loaded configuration is never edited in place."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def as_name(text: str) -> str:
    """A file's own name as a site can write it (:data:`Name`): lower case, every run of
    other characters one underscore, a leading digit prefixed; pandapower's ``Bus 3`` is
    ``bus_3``, ``MV-Feeder 1`` is ``mv_feeder_1``."""
    name = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    return name if name[:1].isalpha() else f"n_{name}"
