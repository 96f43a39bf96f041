"""OpenAIModel against the fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from adversarial_arena.core.errors import BotCallError, CallFailure
from adversarial_arena.models import OpenAIModel
from adversarial_arena.testing import FakeLLM, FakeLLMFailure

ASK = [
    {"role": "system", "content": "You write Python."},
    {"role": "user", "content": "Hash a password."},
]


@contextlib.asynccontextmanager
async def served(*script: str | FakeLLMFailure) -> AsyncIterator[tuple[FakeLLM, OpenAIModel]]:
    """A fake LLM answering `script` on loopback, and an OpenAIModel pointed at it."""
    fake = FakeLLM(script)
    with fake.serve() as url:
        model = OpenAIModel("coder", url, "tiny-coder", token="sk-test-9")
        try:
            yield fake, model
        finally:
            await model.aclose()


async def test_reply_is_the_completion_text() -> None:
    async with served("import bcrypt") as (fake, model):
        assert await model.generate(ASK) == "import bcrypt"
    assert fake.requests[-1] == {
        "model": "tiny-coder",
        "messages": ASK,
        "max_tokens": 256,
        "temperature": 0.0,
    }


async def test_prefix_is_sent_as_trailing_assistant_message_and_begins_the_reply() -> None:
    async with served("import bcrypt\n```") as (fake, model):
        reply = await model.generate(
            ASK, prefix="```python\n", stop=["\nUser:"], max_tokens=32, temperature=0.5
        )
    assert reply == "```python\nimport bcrypt\n```"
    sent = fake.requests[-1]
    assert sent["messages"] == [*ASK, {"role": "assistant", "content": "```python\n"}]
    assert (sent["stop"], sent["max_tokens"], sent["temperature"]) == (["\nUser:"], 32, 0.5)


async def test_server_error_is_http_status_failure_without_the_token() -> None:
    async with served(FakeLLMFailure(500, "boom sk-test-9")) as (_, model):
        with pytest.raises(BotCallError) as caught:
            await model.generate(ASK)
    assert (caught.value.bot, caught.value.reason) == ("coder", CallFailure.HTTP_STATUS)
    assert "500" in caught.value.detail
    assert "sk-test-9" not in str(caught.value) + repr(model)


async def test_deadline_in_the_past_is_timeout_without_a_request() -> None:
    async with served("never sent") as (fake, model):
        with pytest.raises(BotCallError) as caught:
            await model.generate(ASK, deadline=time.time() - 1)
    assert caught.value.reason is CallFailure.TIMEOUT
    assert fake.requests == []
