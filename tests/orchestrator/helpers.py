"""Building tournaments of ScriptedBots served over HTTP on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from adversarial_arena.config import TournamentConfig
from adversarial_arena.testing import ScriptedBot, serve_in_thread


@contextlib.contextmanager
def served(bots: dict[str, ScriptedBot]) -> Iterator[dict[str, str]]:
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(serve_in_thread(bot)) + "/" for name, bot in bots.items()}


def tournament(
    urls: dict[str, str], attackers: list[str], defenders: list[str], **fields: Any
) -> TournamentConfig:
    bot_fields = fields.pop("bot_fields", {})

    def bot(name: str) -> dict[str, Any]:
        return {
            "name": name,
            "kind": "http",
            "url": urls[name],
            "timeout_s": 5,
            **bot_fields.get(name, {}),
        }

    return TournamentConfig.model_validate(
        {
            "name": fields.pop("name", "t"),
            "conversations_per_pair": fields.pop("conversations_per_pair", 4),
            "max_turn_pairs": fields.pop("max_turn_pairs", 5),
            "batch_size": fields.pop("batch_size", 2),
            "attackers": [bot(n) for n in attackers],
            "defenders": [bot(n) for n in defenders],
            **fields,
        }
    )
