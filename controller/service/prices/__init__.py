"""Per-interval prices posted by the operator: store, planning hook and API."""
