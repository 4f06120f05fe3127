"""The plan and what is said of it: the Plan record and its dispatch frame, KPIs, the physics
check, serialisation, adherence to a committed schedule and provenance."""
