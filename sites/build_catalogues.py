"""Rewrite the stored library catalogues from the installed pandapower and windpowerlib.

Run ``python -m sites.build_catalogues`` after upgrading either library (see
`sites.catalogues`).
"""

from __future__ import annotations

import json
from pathlib import Path

from sites.catalogues import SNAPSHOT_FILE, live_catalogues


def main() -> None:
    target = Path(__file__).parent / "data" / "catalogues" / SNAPSHOT_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(live_catalogues(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {target.name}")


if __name__ == "__main__":
    main()
