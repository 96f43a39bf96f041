"""Orchestrator overhead: a full tournament against bots that answer instantly.

With zero-latency bots the wall time is all arena: scheduling, request building, the
group-commit writer and the store. CPU time is the whole process's, so it includes the
writer thread (SQLAlchemy and the database driver), not only the event loop.

    .venv/bin/python benchmarks/orchestrator_overhead.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from _shared import (
    Shape,
    check_complete,
    median,
    postgres_base_url,
    sqlite_url,
    tournament_config,
)

from adversarial_arena.core.ports import TurnRequest
from adversarial_arena.core.types import BotReply
from adversarial_arena.orchestrator import run_tournament
from adversarial_arena.store import Store
from adversarial_arena.testing import private_postgres_schema

FULL = Shape()
QUICK = Shape(per_pair=40)
RUNS = 3
TARGET_SQLITE_MSG_S = 2_000.0


class ZeroLatencyBot:
    """A BotClient that answers every turn at once with the same short reply."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._reply = BotReply(content="ok")

    async def ask(self, request: TurnRequest) -> BotReply:
        return self._reply

    async def health(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Run:
    wall_s: float
    cpu_s: float
    messages: int

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.wall_s

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_s * 1000.0 / self.messages


@dataclass(frozen=True, slots=True)
class StoreResult:
    store: str
    shape: Shape
    runs: list[Run]

    @property
    def median_messages_per_s(self) -> float:
        return median([r.messages_per_s for r in self.runs])

    @property
    def median_cpu_ms_per_message(self) -> float:
        return median([r.cpu_ms_per_message for r in self.runs])

    @property
    def median_wall_s(self) -> float:
        return median([r.wall_s for r in self.runs])


def _bot_fields(_name: str) -> dict[str, Any]:
    # The clients mapping replaces these bots, so the callable is never loaded.
    return {"kind": "python", "callable": "unused:bot", "max_concurrency": 1000}


def run_once(url: str, shape: Shape) -> Run:
    """One tournament on a fresh store; checked against the store before it counts."""
    config = tournament_config("overhead", shape, _bot_fields)
    clients = {bot.name: ZeroLatencyBot(bot.name) for _, bot in config.bots()}
    store = Store.open(url)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        outcome = asyncio.run(run_tournament(store, config, clients))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if outcome.status != "finished":
            raise RuntimeError(f"tournament ended {outcome.status}")
        check_complete(store, outcome.tournament_id, shape)
    finally:
        store.close()
    return Run(wall, cpu, shape.messages)


def measure(
    store_name: str, fresh_url: Callable[[], AbstractContextManager[str]], shape: Shape
) -> StoreResult:
    runs = []
    for _ in range(RUNS):
        with fresh_url() as url:
            runs.append(run_once(url, shape))
    return StoreResult(store_name, shape, runs)


def stores() -> Iterator[tuple[str, Callable[[], AbstractContextManager[str]]]]:
    """SQLite always; PostgreSQL when a server answers."""
    yield "sqlite", sqlite_url
    base = postgres_base_url()
    if base is not None:
        yield "postgresql", lambda: private_postgres_schema(base)


def run(quick: bool = False) -> list[StoreResult]:
    shape = QUICK if quick else FULL
    return [measure(name, fresh, shape) for name, fresh in stores()]


def describe(result: StoreResult) -> str:
    runs = ", ".join(f"{r.messages_per_s:,.0f}" for r in result.runs)
    return (
        f"{result.store:<10} {result.shape.messages:,} messages: "
        f"median {result.median_wall_s:.2f} s, {result.median_messages_per_s:,.0f} msg/s, "
        f"{result.median_cpu_ms_per_message:.3f} CPU ms/msg (runs: {runs} msg/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 conversations per pair")
    args = parser.parse_args()
    for result in run(args.quick):
        print(describe(result))


if __name__ == "__main__":
    main()
