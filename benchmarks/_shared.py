"""What the orchestrator benchmarks share: the tournament shape, fresh stores, checks."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from adversarial_arena.config import TournamentConfig
from adversarial_arena.core.types import SessionStatus
from adversarial_arena.store import Store
from adversarial_arena.store import schema as t
from adversarial_arena.store.dialect import normalise_url

POSTGRES_ENV = "ARENA_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class Shape:
    """A tournament's size: every attacker meets every defender `per_pair` times."""

    attackers: int = 5
    defenders: int = 5
    per_pair: int = 200
    turn_pairs: int = 5
    batch_size: int = 20

    @property
    def pairs(self) -> int:
        return self.attackers * self.defenders

    @property
    def messages(self) -> int:
        return self.pairs * self.per_pair * 2 * self.turn_pairs


def tournament_config(
    name: str, shape: Shape, bot_fields: Callable[[str], dict[str, Any]]
) -> TournamentConfig:
    """Attackers a0..a4 and defenders d0..d4 (by default); `bot_fields(name)` adds the rest."""

    def bot(bot_name: str) -> dict[str, Any]:
        return {"name": bot_name, **bot_fields(bot_name)}

    return TournamentConfig.model_validate(
        {
            "name": name,
            "conversations_per_pair": shape.per_pair,
            "max_turn_pairs": shape.turn_pairs,
            "batch_size": shape.batch_size,
            "attackers": [bot(f"a{i}") for i in range(shape.attackers)],
            "defenders": [bot(f"d{i}") for i in range(shape.defenders)],
        }
    )


def check_complete(store: Store, tournament_id: str, shape: Shape) -> None:
    """Refuse a figure the store does not back: every message stored, no error session."""
    query = (
        select(func.count())
        .select_from(t.messages.join(t.sessions, t.sessions.c.id == t.messages.c.session_id))
        .where(t.sessions.c.tournament_id == tournament_id, t.messages.c.error.is_(None))
    )
    with store.engine.connect() as conn:
        stored = int(conn.execute(query).scalar_one())
    counts = store.session_counts(tournament_id)
    errors = sum(n for (_, status), n in counts.items() if status == SessionStatus.ERROR.value)
    if stored != shape.messages or errors:
        raise RuntimeError(
            f"tournament {tournament_id}: {stored} messages stored (expected "
            f"{shape.messages}), {errors} error sessions"
        )


@contextlib.contextmanager
def sqlite_url() -> Iterator[str]:
    """A fresh SQLite file in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="arena-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'arena.db'}"


def postgres_base_url() -> str | None:
    """The PostgreSQL server to use, or None when none answers."""
    url = os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES_URL
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return None
    finally:
        engine.dispose()
    return url


def median(values: list[float]) -> float:
    return statistics.median(values)
