"""The store: SQLAlchemy schema, queries and Alembic migrations (SQLite or PostgreSQL)."""

from adversarial_arena.store.store import DEFAULT_DB_URL, Store, resolve_db_url

__all__ = ["DEFAULT_DB_URL", "Store", "resolve_db_url"]
