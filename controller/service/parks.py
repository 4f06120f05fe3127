"""The parks a service runs: bundled ones by id and the operator's own site files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from sites import Site, bundled_site_paths, load_site
from sites.errors import ConfigProblem, SiteConfigError
from sites.park import resolve_site


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
    """``bundled``: parks named as every command names them, a bundled id or a site file
    (every bundled park when both lists are empty); ``files``: site files."""
    refs = bundled or ([] if files else list(bundled_site_paths()))
    loaded = [resolve_site(ref) for ref in refs]
    loaded += [(load_site(path), str(path)) for path in files]
    by_id: dict[str, Site] = {}
    sources: dict[str, str] = {}
    for site, source in loaded:
        if site.id in by_id:
            raise SiteConfigError(
                [ConfigProblem(source, "id", site.id, "must differ from every other park's id")]
            )
        by_id[site.id] = site
        sources[site.id] = source
    return Parks(by_id, sources)
