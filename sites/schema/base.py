"""Shared base of every configuration model: strict, immutable, named."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

# Asset, bus and site names: lower-case identifiers usable in column names (``pv_<name>_kw``).
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]


class StrictModel(BaseModel):
    """Unknown fields are errors; a loaded configuration is never edited in place."""

    model_config = ConfigDict(extra="forbid", frozen=True)
