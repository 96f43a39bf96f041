"""Built-in reference bots (SPEC §7): attackers over a goal library (six strategies and
a planner) and defenders over a model (plain and guarded).

    from adversarial_arena.bots.reference import load_goals, make_attacker
    attack = make_attacker("escalation", load_goals(), seed=7)

`attack(messages, context)` is an ordinary SDK bot function: serve it, or wrap it in a
PythonBotClient. `BUILTINS` names every built-in bot with its role and builder (see
`builtins.py` for their options); `builtin_factories()` gives their clients for
`kind: builtin`, and `arena serve-bot NAME` serves any of them over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable

from adversarial_arena.bots.python import PythonBotClient
from adversarial_arena.bots.reference.builtins import (
    BUILTINS,
    BuiltinBot,
    builtin_function,
    describe_builtins,
)
from adversarial_arena.bots.reference.defenders import GuardedDefender, PlainDefender
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
from adversarial_arena.core.ports import BotClient


def _client_factory(name: str) -> Callable[[BotConfig], BotClient]:
    def build(config: BotConfig) -> BotClient:
        _role, fn = builtin_function(name, config)
        return PythonBotClient(config.name, fn, timeout_s=config.timeout_s)

    return build


def builtin_factories() -> dict[str, Callable[[BotConfig], BotClient]]:
    """A client factory for every built-in bot (`BUILTINS`), for `kind: builtin`."""
    return {name: _client_factory(name) for name in BUILTINS}


__all__ = [
    "BUILTINS",
    "GOAL_KINDS",
    "STRATEGIES",
    "UCB1",
    "AttackerTurn",
    "BuiltinBot",
    "Goal",
    "GoalKind",
    "GuardedDefender",
    "PlainDefender",
    "PlannerAttacker",
    "Strategy",
    "ThompsonSampling",
    "builtin_factories",
    "builtin_function",
    "conversation_reward",
    "describe_builtins",
    "load_goals",
    "make_attacker",
    "make_policy",
    "pick_goal",
]
