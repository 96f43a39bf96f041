"""The built-in reference bots by name: each a role and a builder from a bot config to
an SDK bot function, so a built-in bot runs in-process (`kind: builtin`) or served
over HTTP (`arena serve-bot NAME`) from the same code.

    attacker-<strategy>   one of the six strategies (strategies.STRATEGIES)
    attacker-planner      a bandit over strategies and goal kinds
    defender-plain        a system prompt and a model
    defender-guarded      the same model behind intent check, verifier and budget

Attacker options: `seed`, `kinds` (goal kinds), and for the planner `policy` (`ucb1` |
`thompson`), `strategies` and `history` (a store URL whose evaluated sessions of this
attacker warm-start its bandit). Defender options are `DefenderOptions`; the model is
the bot's `url` + `model` (+ `token_env`) when `url` is set (any OpenAI-compatible
server), else the local model (the `[local]` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adversarial_arena.bots.reference.defenders import (
    PLAIN_SYSTEM_PROMPT,
    GuardedDefender,
    PlainDefender,
)
from adversarial_arena.bots.reference.goals import Goal, load_goals
from adversarial_arena.bots.reference.planner import PlannerAttacker
from adversarial_arena.bots.reference.strategies import STRATEGIES, make_attacker
from adversarial_arena.config import BotConfig
from adversarial_arena.core.errors import ConfigError
from adversarial_arena.core.types import Role
from adversarial_arena.evaluation.findings import Severity
from adversarial_arena.models.base import TextModel
from adversarial_arena.sdk._adapter import BotFunction

_ATTACKER_OPTIONS = {"seed", "kinds", "rewriter"}
_PLANNER_OPTIONS = _ATTACKER_OPTIONS | {"policy", "strategies", "history"}


@dataclass(frozen=True, slots=True)
class BuiltinBot:
    """A built-in bot: its role, what it is, and how to build its function."""

    role: Role
    summary: str
    build: Callable[[BotConfig], BotFunction]


class DefenderOptions(BaseModel):
    """What `options:` may hold for `defender-plain` and `defender-guarded`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # The local model (used when the bot has no url): a GGUF file, else Gemma 3 270M.
    model_path: str | None = None
    n_ctx: int = Field(default=2048, ge=256)
    n_threads: int | None = Field(default=None, ge=1)
    max_tokens: int = Field(default=256, ge=1)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    system_prompt: str = PLAIN_SYSTEM_PROMPT  # defender-plain only
    # defender-guarded only:
    budget_s: float = Field(default=45.0, gt=0)
    refuse_malicious: bool = True
    reasoning: bool = False
    reasoning_tokens: int = Field(default=96, ge=1)
    regenerations: int = Field(default=1, ge=0, le=5)
    threshold: Severity = Severity.MEDIUM


def _check_options(config: BotConfig, known: set[str]) -> None:
    unknown = set(config.options) - known
    if unknown:
        raise ConfigError(
            f"bot '{config.name}': unknown option(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(known))}"
        )


def _seed_and_goals(config: BotConfig) -> tuple[int, tuple[Goal, ...]]:
    seed = config.options.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError(f"bot '{config.name}': option 'seed' must be an integer")
    return seed, load_goals(config.options.get("kinds"))


def _with_rewriter(config: BotConfig, attack: BotFunction) -> BotFunction:
    """`attack`, its messages reworded by an LLM when `options.rewriter` names one."""
    if "rewriter" not in config.options:
        return attack
    from adversarial_arena.bots._transport import read_token
    from adversarial_arena.bots.reference.rewriter import RewriterOptions, RewrittenAttacker
    from adversarial_arena.models.openai_model import OpenAIModel

    options = _validated(config, RewriterOptions, config.options["rewriter"], "rewriter")
    token = read_token(config.name, options.token_env)
    model = OpenAIModel(
        f"{config.name}/rewriter",
        options.url,
        options.model,
        token=token.get_secret_value() if token is not None else None,
        timeout_s=options.timeout_s,
        max_concurrency=config.max_concurrency,
    )
    return RewrittenAttacker(
        attack,
        model,
        instruction=options.instruction,
        max_tokens=options.max_tokens,
        temperature=options.temperature,
    )


def _strategy_builder(strategy: str) -> Callable[[BotConfig], BotFunction]:
    def build(config: BotConfig) -> BotFunction:
        _check_options(config, _ATTACKER_OPTIONS)
        seed, goals = _seed_and_goals(config)
        return _with_rewriter(config, make_attacker(strategy, goals, seed))

    return build


def _build_planner(config: BotConfig) -> BotFunction:
    _check_options(config, _PLANNER_OPTIONS)
    seed, goals = _seed_and_goals(config)
    planner = PlannerAttacker(
        goals,
        seed,
        policy=config.options.get("policy", "ucb1"),
        strategies=config.options.get("strategies"),
    )
    history = config.options.get("history")
    if history is not None:
        from adversarial_arena.bots.reference.history import learn_from_store

        if not isinstance(history, str):
            raise ConfigError(f"bot '{config.name}': option 'history' must be a store URL")
        learn_from_store(planner, history, config.name)
    return _with_rewriter(config, planner)


_Options = TypeVar("_Options", bound=BaseModel)


def _validated(config: BotConfig, model: type[_Options], data: object, where: str) -> _Options:
    """`data` as `model`, or a ConfigError naming the bot and the option's path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        path = ".".join(part for part in (where, *map(str, first["loc"])) if part)
        raise ConfigError(f"bot '{config.name}': options.{path}: {first['msg']}") from None


def defender_options(config: BotConfig) -> DefenderOptions:
    return _validated(config, DefenderOptions, config.options, "")


def defender_model(config: BotConfig, options: DefenderOptions) -> TextModel:
    """The model behind a reference defender: the bot's OpenAI-compatible `url`, or the
    local model."""
    if config.url is not None:
        from adversarial_arena.bots._transport import read_token
        from adversarial_arena.models.openai_model import OpenAIModel

        if config.model is None:
            raise ConfigError(f"bot '{config.name}': a url needs a model name (model:)")
        token = read_token(config.name, config.token_env)
        return OpenAIModel(
            config.name,
            config.url,
            config.model,
            token=token.get_secret_value() if token is not None else None,
            timeout_s=config.timeout_s,
            max_concurrency=config.max_concurrency,
        )
    from pathlib import Path

    from adversarial_arena.models.local import LocalModel

    path = Path(options.model_path) if options.model_path else None
    return LocalModel(path, n_ctx=options.n_ctx, n_threads=options.n_threads)


def _build_plain(config: BotConfig) -> BotFunction:
    options = defender_options(config)
    return PlainDefender(
        defender_model(config, options),
        system_prompt=options.system_prompt,
        max_tokens=options.max_tokens,
        temperature=options.temperature,
    )


def _build_guarded(config: BotConfig) -> BotFunction:
    options = defender_options(config)
    return GuardedDefender(
        defender_model(config, options),
        budget_s=min(options.budget_s, config.timeout_s),
        refuse_malicious=options.refuse_malicious,
        reasoning=options.reasoning,
        reasoning_tokens=options.reasoning_tokens,
        regenerations=options.regenerations,
        threshold=options.threshold,
        max_tokens=options.max_tokens,
        temperature=options.temperature,
    )


def _registry() -> dict[str, BuiltinBot]:
    bots = {
        f"attacker-{name}": BuiltinBot(
            Role.ATTACKER, f"the {name} strategy over the goal library", _strategy_builder(name)
        )
        for name in STRATEGIES
    }
    bots["attacker-planner"] = BuiltinBot(
        Role.ATTACKER, "picks strategy and goal kind by past success", _build_planner
    )
    bots["defender-plain"] = BuiltinBot(Role.DEFENDER, "a system prompt and a model", _build_plain)
    bots["defender-guarded"] = BuiltinBot(
        Role.DEFENDER,
        "intent check, hidden reasoning, static-analysis verifier, latency budget",
        _build_guarded,
    )
    return bots


BUILTINS: dict[str, BuiltinBot] = _registry()


def builtin_function(name: str, config: BotConfig) -> tuple[Role, BotFunction]:
    """The role and bot function of the built-in bot `name`, built from `config`."""
    bot = BUILTINS.get(name)
    if bot is None:
        raise ConfigError(
            f"bot '{config.name}': no built-in bot named '{name}' (known: "
            f"{', '.join(sorted(BUILTINS))})"
        )
    return bot.role, bot.build(config)


def describe_builtins() -> list[tuple[str, str, str]]:
    """(name, role, summary) of every built-in bot, for listings."""
    return [(name, bot.role.value, bot.summary) for name, bot in sorted(BUILTINS.items())]
