"""Warm-start a planner attacker from a store's evaluated sessions (SPEC §7).

`arena evaluate` stores an `attack_success` label per session; the planner recorded its
arm in its messages' metadata. Feeding those outcomes to the planner's bandit lets a new
tournament start from what earlier tournaments taught, instead of from nothing.

The store is only read: it is never created, migrated or written here.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from adversarial_arena.bots.reference.planner import PlannerAttacker
from adversarial_arena.core.errors import ConfigError
from adversarial_arena.store.dialect import make_engine
from adversarial_arena.store.history import planner_outcomes
from adversarial_arena.store.store import Store, safe_url


def learn_from_store(planner: PlannerAttacker, db_url: str, attacker: str) -> int:
    """Feed `planner` the outcome of every evaluated session of the bot `attacker` in the
    store at `db_url`; returns how many outcomes it learnt from. Arms the planner does
    not play (a strategy or goal kind since removed) are skipped."""
    store = open_history(db_url)
    try:
        outcomes = planner_outcomes(store, attacker)
    except SQLAlchemyError as exc:
        raise ConfigError(
            f"cannot read the planner's history from {safe_url(db_url)}: {_first_line(exc)}"
        ) from None
    finally:
        store.close()
    arms = set(planner.policy.arms)
    learnt = 0
    for strategy, kind, reward in outcomes:
        if (strategy, kind) in arms:
            planner.update((strategy, kind), reward)
            learnt += 1
    return learnt


def open_history(db_url: str) -> Store:
    """The store at `db_url`, opened for reading: it must exist with the arena's tables
    at the newest schema revision (no file is created, no migration is run)."""
    where = safe_url(db_url)
    try:
        url = make_url(db_url)
    except ArgumentError:
        raise ConfigError(f"planner history: '{where}' is not a database URL") from None
    if url.get_backend_name() == "sqlite" and not _sqlite_file_exists(url.database):
        raise ConfigError(
            f"planner history: no store at {where} — run a tournament and `arena evaluate` "
            "with that --db first, or fix the path"
        )
    store = Store(make_engine(db_url), db_url)
    try:
        revision, head = store.schema_revision(), store.head_revision()
    except (SQLAlchemyError, OSError) as exc:
        store.close()
        raise ConfigError(f"planner history: cannot open {where}: {_first_line(exc)}") from None
    if revision is None:
        store.close()
        raise ConfigError(
            f"planner history: {where} has no arena tables — point it at the store "
            "your tournaments ran in"
        )
    if revision != head:
        store.close()
        raise ConfigError(
            f"planner history: the store {where} needs an upgrade: run "
            f"`arena db upgrade --db {where}`"
        )
    return store


def _sqlite_file_exists(database: str | None) -> bool:
    # An in-memory database is always empty; the "no arena tables" check reports it.
    if not database or database == ":memory:":
        return True
    return Path(database).is_file()


def _first_line(exc: BaseException) -> str:
    return str(exc.__cause__ or exc).splitlines()[0]
