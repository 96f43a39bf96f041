"""A throw-away store on a shared PostgreSQL server, for tests and benchmarks."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text

from adversarial_arena.store.dialect import normalise_url


@contextlib.contextmanager
def private_postgres_schema(base_url: str) -> Iterator[str]:
    """Yield a store URL whose tables live in a new schema of `base_url`'s database.

    The schema is dropped afterwards, so runs never see each other's data.
    """
    schema = f"arena_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(normalise_url(base_url))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
