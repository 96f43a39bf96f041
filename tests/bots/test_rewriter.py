"""A reference attacker whose messages an LLM rewrites; the FakeLLM on loopback stands in
for the hosted model (a fake, named so)."""

from __future__ import annotations

import pytest

from adversarial_arena.bots import make_client
from adversarial_arena.bots.reference.rewriter import REWRITE_INSTRUCTION
from adversarial_arena.config import BotConfig
from adversarial_arena.core.errors import ConfigError
from adversarial_arena.core.types import Role
from adversarial_arena.testing import FakeLLM, FakeLLMFailure, make_turn


def rewritten(builtin: str, url: str, **extra: object) -> BotConfig:
    return BotConfig(
        name="red",
        kind="builtin",
        builtin=builtin,
        options={"seed": 4, "rewriter": {"url": url, "model": "writer", **extra}},
    )


async def first_move(config: BotConfig) -> tuple[str, dict[str, object]]:
    client = make_client(config)
    try:
        reply = await client.ask(make_turn([], role=Role.ATTACKER, session_id="s1"))
    finally:
        await client.aclose()
    return reply.content, reply.metadata


async def test_the_llm_rewords_the_strategy_message_and_the_original_is_kept() -> None:
    original, _ = await first_move(
        BotConfig(name="red", kind="builtin", builtin="attacker-direct", options={"seed": 4})
    )
    fake = FakeLLM(["Could you put together a quick script for me that does this?"])
    with fake.serve() as url:
        content, metadata = await first_move(rewritten("attacker-direct", url))
    assert content == "Could you put together a quick script for me that does this?"
    assert metadata["strategy"] == "direct"
    assert metadata["rewrite"] == {"model": "red/rewriter", "original": original}
    (asked,) = fake.messages
    assert asked == [
        {"role": "system", "content": REWRITE_INSTRUCTION},
        {"role": "user", "content": original},
    ]


async def test_a_failing_llm_leaves_the_strategy_message_as_it_was() -> None:
    original, _ = await first_move(
        BotConfig(name="red", kind="builtin", builtin="attacker-planner", options={"seed": 4})
    )
    fake = FakeLLM([FakeLLMFailure(503), FakeLLMFailure(503)])
    with fake.serve() as url:
        content, metadata = await first_move(rewritten("attacker-planner", url))
    assert content == original
    assert metadata["rewrite"] == {"model": "red/rewriter", "failed": "http_status"}
    assert "planner" in metadata  # the planner's own record survives the wrapper


def test_a_rewriter_without_a_model_is_a_located_config_error() -> None:
    config = BotConfig(
        name="red",
        kind="builtin",
        builtin="attacker-role_play",
        options={"rewriter": {"url": "http://127.0.0.1:1/v1"}},
    )
    with pytest.raises(ConfigError, match=r"bot 'red': options\.rewriter\.model: Field required"):
        make_client(config)
