"""What a park is: validated site descriptions, tariffs, bundled parks and their history."""

from sites.errors import ConfigProblem, DataError, MicrogridError, SiteConfigError
from sites.loader import (
    bundled_site_paths,
    bundled_sites,
    load_bundled_site,
    load_site,
    load_site_mapping,
    load_tariff_calendar,
)
from sites.schema import Site

__all__ = [
    "ConfigProblem",
    "DataError",
    "MicrogridError",
    "Site",
    "SiteConfigError",
    "bundled_site_paths",
    "bundled_sites",
    "load_bundled_site",
    "load_site",
    "load_site_mapping",
    "load_tariff_calendar",
]
