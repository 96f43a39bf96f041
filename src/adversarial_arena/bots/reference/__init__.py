"""Built-in reference attackers (SPEC §7): a goal library, six strategies, a planner.

    from adversarial_arena.bots.reference import load_goals, make_attacker
    attack = make_attacker("escalation", load_goals(), seed=7)

`attack(messages, context)` is an ordinary SDK bot function: serve it, or wrap it in a
PythonBotClient. `builtin_factories()` gives the factories for `BUILTIN_BOTS`, named
`attacker-<strategy>` and `attacker-planner`; a bot config's `options` may set `seed`
(int), `kinds` (goal kinds to draw from) and, for the planner, `policy`
(`ucb1` or `thompson`) and `strategies`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adversarial_arena.bots.python import PythonBotClient
from adversarial_arena.bots.reference.goals import GOAL_KINDS, Goal, GoalKind, load_goals
from adversarial_arena.bots.reference.planner import (
    UCB1,
    PlannerAttacker,
    ThompsonSampling,
    conversation_reward,
    make_policy,
)
from adversarial_arena.bots.reference.strategies import (
    STRATEGIES,
    AttackerTurn,
    Strategy,
    make_attacker,
    pick_goal,
)
from adversarial_arena.config import BotConfig
from adversarial_arena.core.errors import ConfigError
from adversarial_arena.core.ports import BotClient

_KNOWN_OPTIONS = {"seed", "kinds", "policy", "strategies"}


def _options(config: BotConfig) -> dict[str, Any]:
    unknown = set(config.options) - _KNOWN_OPTIONS
    if unknown:
        raise ConfigError(
            f"bot '{config.name}': unknown option(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_KNOWN_OPTIONS))}"
        )
    seed = config.options.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"bot '{config.name}': option 'seed' must be an integer")
    return {"seed": seed, "goals": load_goals(config.options.get("kinds"))}


def _strategy_factory(strategy: str) -> Callable[[BotConfig], BotClient]:
    def build(config: BotConfig) -> BotClient:
        opts = _options(config)
        fn = make_attacker(strategy, opts["goals"], opts["seed"])
        return PythonBotClient(config.name, fn, timeout_s=config.timeout_s)

    return build


def _build_planner(config: BotConfig) -> BotClient:
    opts = _options(config)
    planner = PlannerAttacker(
        opts["goals"],
        opts["seed"],
        policy=config.options.get("policy", "ucb1"),
        strategies=config.options.get("strategies"),
    )
    return PythonBotClient(config.name, planner, timeout_s=config.timeout_s)


def builtin_factories() -> dict[str, Callable[[BotConfig], BotClient]]:
    """Factories for `BUILTIN_BOTS`: `attacker-<strategy>` and `attacker-planner`."""
    factories = {f"attacker-{name}": _strategy_factory(name) for name in STRATEGIES}
    factories["attacker-planner"] = _build_planner
    return factories


__all__ = [
    "GOAL_KINDS",
    "STRATEGIES",
    "UCB1",
    "AttackerTurn",
    "Goal",
    "GoalKind",
    "PlannerAttacker",
    "Strategy",
    "ThompsonSampling",
    "builtin_factories",
    "conversation_reward",
    "load_goals",
    "make_attacker",
    "make_policy",
    "pick_goal",
]
