"""The parks a service runs: bundled ones by id and the operator's own site files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from sites import Site, bundled_site_paths, load_bundled_site, load_site
from sites.errors import ConfigProblem, SiteConfigError


@dataclass(frozen=True)
class Parks:
    """Sites by id, with where each description came from."""

    by_id: Mapping[str, Site]
    sources: Mapping[str, str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", MappingProxyType(dict(self.by_id)))
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))

    @property
    def ids(self) -> list[str]:
        return list(self.by_id)

    def get(self, site_id: str) -> Site | None:
        return self.by_id.get(site_id)


def load_parks(bundled: list[str], files: list[Path]) -> Parks:
    """``bundled`` ids (every bundled park when both lists are empty) and site files."""
    ids = bundled or ([] if files else list(bundled_site_paths()))
    by_id: dict[str, Site] = {}
    sources: dict[str, str] = {}
    for site_id in ids:
        by_id[site_id] = load_bundled_site(site_id)
        sources[site_id] = "bundled"
    for path in files:
        site = load_site(path)
        if site.id in by_id:
            raise SiteConfigError(
                [ConfigProblem(str(path), "id", site.id, "must differ from every other park's id")]
            )
        by_id[site.id] = site
        sources[site.id] = str(path)
    return Parks(by_id, sources)
