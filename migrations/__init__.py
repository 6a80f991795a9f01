"""Alembic migrations (script_location is this folder; see core.db.alembic_config)."""
