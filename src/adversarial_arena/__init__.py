"""Adversarial Arena: tournaments between attacker bots and defender bots.

The public API re-exports from small private modules; see README.md for a tour.
"""

from adversarial_arena.core.errors import (
    ArenaError,
    BotCallError,
    ConfigError,
    NotFoundError,
    StoreError,
)
from adversarial_arena.core.types import BotReply, ChatMessage, Role

__version__ = "0.1.0"

__all__ = [
    "ArenaError",
    "BotCallError",
    "BotReply",
    "ChatMessage",
    "ConfigError",
    "NotFoundError",
    "Role",
    "StoreError",
    "__version__",
]
