"""Alembic migrations of the matcher schema (shipped inside the package; see docs/install.md)."""
