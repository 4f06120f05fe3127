"""Per-site caching of what depends on the site alone: by object, bounded."""

from __future__ import annotations

from controller.inputs.dispatch_inputs import SITE_CACHE_SIZE, per_site
from sites import Site, load_bundled_site


def test_one_build_per_site_object_and_none_shared_between_equal_objects() -> None:
    built: list[Site] = []

    @per_site
    def name_of(site: Site) -> str:
        built.append(site)
        return site.id

    site = load_bundled_site("chiping-aluminium")
    twin = site.model_copy(deep=True)
    assert name_of(site) == name_of(site) == "chiping-aluminium"
    assert built == [site]
    assert name_of(twin) == "chiping-aluminium"
    assert built[-1] is twin and len(built) == 2


def test_the_least_recent_site_is_dropped_beyond_the_cache_size() -> None:
    calls: list[Site] = []

    @per_site
    def seen(site: Site) -> int:
        calls.append(site)
        return len(calls)

    first = load_bundled_site("gaotang-textile")
    others = [first.model_copy() for _ in range(SITE_CACHE_SIZE)]
    seen(first)
    for site in others:
        seen(site)
    seen(others[-1])
    assert len(calls) == 1 + SITE_CACHE_SIZE  # still held
    seen(first)
    assert len(calls) == 2 + SITE_CACHE_SIZE  # dropped, built again
