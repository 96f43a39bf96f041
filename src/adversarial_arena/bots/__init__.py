"""Bot clients behind the BotClient Protocol, one per kind (SPEC §1).

`make_client(config)` picks the client for a bot's kind. Built-in reference bots
register a factory in `BUILTIN_BOTS` under their name.
"""

from __future__ import annotations

from collections.abc import Callable

from adversarial_arena.bots.http import HttpBotClient
from adversarial_arena.bots.openai import OpenAIChatClient
from adversarial_arena.bots.python import PythonBotClient, load_callable
from adversarial_arena.config import BotConfig
from adversarial_arena.core.errors import ConfigError
from adversarial_arena.core.ports import BotClient

BUILTIN_BOTS: dict[str, Callable[[BotConfig], BotClient]] = {}


def _builtin_client(config: BotConfig) -> BotClient:
    if not BUILTIN_BOTS:
        raise ConfigError(f"bot '{config.name}': built-in bots arrive with the reference bots")
    factory = BUILTIN_BOTS.get(config.builtin or "")
    if factory is None:
        known = ", ".join(sorted(BUILTIN_BOTS))
        raise ConfigError(
            f"bot '{config.name}': no built-in bot named '{config.builtin}' (known: {known})"
        )
    return factory(config)


def make_client(config: BotConfig) -> BotClient:
    """The client for `config`'s kind; raises ConfigError when it cannot be built."""
    if config.kind == "http":
        return HttpBotClient(config)
    if config.kind == "openai":
        return OpenAIChatClient(config)
    if config.kind == "python":
        fn = load_callable(config.callable or "")
        return PythonBotClient(config.name, fn, timeout_s=config.timeout_s)
    return _builtin_client(config)


__all__ = [
    "BUILTIN_BOTS",
    "HttpBotClient",
    "OpenAIChatClient",
    "PythonBotClient",
    "load_callable",
    "make_client",
]

# The reference bots register last: they import the clients above.
from adversarial_arena.bots.reference import builtin_factories  # noqa: E402

BUILTIN_BOTS.update(builtin_factories())
