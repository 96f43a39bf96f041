"""Makespan against real HTTP bots with a fixed latency L and per-bot concurrency cap C.

The bots run in a separate uvicorn process (latency_bot_server.py), so on a 2-core
machine the orchestrator keeps a core to itself. The figure is makespan / lower bound,
where the lower bound is the larger of
  per-bot work:     each bot serves (pairs it is in × sessions × calls) × L / C
  per-pair batches: ceil(sessions / batch_size) × messages per session × L
(SPEC §2.2: a pair's next batch starts only when its previous batch has finished).

    .venv/bin/python benchmarks/makespan.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _shared import Shape, check_complete, sqlite_url, tournament_config

from adversarial_arena.orchestrator import Outcome, create_tournament, open_tournament
from adversarial_arena.store import Store

SERVER = Path(__file__).with_name("latency_bot_server.py")
FULL = Shape()
QUICK = Shape(per_pair=40)
LATENCY_S = 0.100
BOT_CONCURRENCY = 8
TARGET_RATIO = 1.10


@dataclass(frozen=True, slots=True)
class MakespanResult:
    shape: Shape
    quick: bool
    makespan_s: float
    lower_bound_s: float
    cpu_s: float  # the orchestrator process (event loop and store writer thread)
    server_cpu_s: float  # the bots' process
    peak_in_flight: int  # the most calls any one bot had at once

    @property
    def ratio(self) -> float:
        return self.makespan_s / self.lower_bound_s

    @property
    def messages_per_s(self) -> float:
        return self.shape.messages / self.makespan_s

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_s * 1000.0 / self.shape.messages

    @property
    def server_cpu_ms_per_message(self) -> float:
        return self.server_cpu_s * 1000.0 / self.shape.messages


def lower_bound_s(shape: Shape, latency_s: float, concurrency: int) -> float:
    calls_per_bot = max(shape.attackers, shape.defenders) * shape.per_pair * shape.turn_pairs
    per_bot = calls_per_bot * latency_s / concurrency
    per_pair = math.ceil(shape.per_pair / shape.batch_size) * 2 * shape.turn_pairs * latency_s
    return max(per_bot, per_pair)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def bot_server(latency_s: float) -> Iterator[tuple[str, int]]:
    """Start the bots' process; yield its base URL and pid; stop it afterwards."""
    command = [sys.executable, str(SERVER), "--latency-ms", str(latency_s * 1000.0)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the bot server did not start (exit code {process.poll()})")
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _bot_fields(base_url: str) -> Any:
    def fields(name: str) -> dict[str, Any]:
        return {
            "kind": "http",
            "url": f"{base_url}/{name}/",
            "max_concurrency": BOT_CONCURRENCY,
            "timeout_s": 45,
        }

    return fields


async def _timed_run(store: Store, tournament_id: str) -> tuple[Outcome, float, float]:
    """Run a created tournament; (outcome, wall seconds, process CPU seconds)."""
    control = await open_tournament(store, tournament_id)
    cpu, wall = time.process_time(), time.perf_counter()
    outcome = await control.run()
    return outcome, time.perf_counter() - wall, time.process_time() - cpu


def run(quick: bool = False) -> MakespanResult:
    shape = QUICK if quick else FULL
    with sqlite_url() as url, bot_server(LATENCY_S) as (base_url, pid):
        store = Store.open(url)
        try:
            tournament_id = create_tournament(
                store, tournament_config("makespan", shape, _bot_fields(base_url))
            )
            server_cpu = process_cpu_s(pid)
            outcome, wall, cpu = asyncio.run(_timed_run(store, tournament_id))
            server_cpu = process_cpu_s(pid) - server_cpu
            if outcome.status != "finished":
                raise RuntimeError(f"tournament ended {outcome.status}")
            check_complete(store, tournament_id, shape)
        finally:
            store.close()
    peak = max(bot.max_in_flight for bot in outcome.progress.bots)
    bound = lower_bound_s(shape, LATENCY_S, BOT_CONCURRENCY)
    return MakespanResult(shape, quick, wall, bound, cpu, server_cpu, peak)


def describe(result: MakespanResult) -> str:
    return (
        f"{'quick' if result.quick else 'full'} run, {result.shape.messages:,} messages, "
        f"L = {LATENCY_S * 1000:.0f} ms, C = {BOT_CONCURRENCY}: "
        f"makespan {result.makespan_s:.2f} s, lower bound {result.lower_bound_s:.2f} s, "
        f"ratio {result.ratio:.3f} (target ≤ {TARGET_RATIO}), "
        f"{result.messages_per_s:,.0f} msg/s, {result.cpu_ms_per_message:.3f} CPU ms/msg "
        f"(bots' process {result.server_cpu_ms_per_message:.3f}), "
        f"peak in-flight per bot {result.peak_in_flight}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 conversations per pair")
    print(describe(run(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
