"""Alembic migrations of the service's store (run by :func:`controller.service.migrate.upgrade`)."""
