"""REST API under ``/api/v1``: one router per resource, shared dependencies in ``deps``."""
