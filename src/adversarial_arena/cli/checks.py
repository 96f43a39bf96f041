"""`arena bots check`: readiness of every bot a config names."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from adversarial_arena.bots import make_client
from adversarial_arena.config import BotConfig, TournamentConfig
from adversarial_arena.core.errors import ArenaError


@dataclass(frozen=True, slots=True)
class BotCheck:
    name: str
    role: str
    kind: str
    endpoint: str
    token: str  # "set" / "missing: VAR" / "–": never the value
    ready: bool
    problem: str


def _token_state(bot: BotConfig) -> str:
    if not bot.token_env:
        return "–"
    return f"{bot.token_env} set" if os.environ.get(bot.token_env) else f"{bot.token_env} MISSING"


async def _check(role: str, bot: BotConfig) -> BotCheck:
    endpoint = bot.url or bot.callable or bot.builtin or ""
    try:
        client = make_client(bot)
    except ArenaError as exc:
        return BotCheck(bot.name, role, bot.kind, endpoint, _token_state(bot), False, str(exc))
    try:
        async with asyncio.timeout(min(bot.timeout_s, 10.0)):
            ready = await client.health()
        problem = "" if ready else "did not answer its health check"
    except TimeoutError:
        ready, problem = False, "health check timed out"
    finally:
        await client.aclose()
    return BotCheck(bot.name, role, bot.kind, endpoint, _token_state(bot), ready, problem)


async def check_bots(config: TournamentConfig) -> list[BotCheck]:
    return list(await asyncio.gather(*(_check(role.value, bot) for role, bot in config.bots())))
