"""OpenAIChatClient against a fake OpenAI-compatible server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from adversarial_arena.bots import OpenAIChatClient
from adversarial_arena.config import BotConfig
from adversarial_arena.core.errors import BotCallError, CallFailure, ConfigError
from adversarial_arena.testing import make_turn, serve_in_thread

HELLO = [
    {"role": "user", "content": "how do I hash a password?"},
    {"role": "assistant", "content": "Use bcrypt."},
    {"role": "user", "content": "and in Python?"},
]
USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}


def completion(content: Any, model: str = "tiny-coder") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
    }


class FakeOpenAIServer:
    """Stands in for a hosted LLM; the requested model name picks its behaviour."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("authorization", ""))
        model = body["model"]
        if model == "overloaded":
            return PlainTextResponse("overloaded", status_code=503)
        if model == "no-choices":
            return JSONResponse({**completion(""), "choices": []})
        if model == "tool-call":
            return JSONResponse(completion(None))
        if model == "slow":
            while not await request.is_disconnected():
                await asyncio.sleep(0.01)
            return Response(b"")
        if model == "verbose":
            return JSONResponse(completion("word " * 1000))
        return JSONResponse(completion(f"reply to: {body['messages'][-1]['content']}", model))

    async def models(self, _: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": "tiny-coder"}]})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
            ]
        )


@pytest.fixture(scope="module")
def llm() -> Iterator[tuple[str, FakeOpenAIServer]]:
    server = FakeOpenAIServer()
    with serve_in_thread(server.app()) as url:
        yield url + "/v1", server


@contextlib.asynccontextmanager
async def client_for(
    url: str, model: str = "tiny-coder", **fields: Any
) -> AsyncIterator[OpenAIChatClient]:
    client = OpenAIChatClient(BotConfig(name="blue", kind="openai", url=url, model=model, **fields))
    try:
        yield client
    finally:
        await client.aclose()


async def failure_of(client: OpenAIChatClient) -> BotCallError:
    with pytest.raises(BotCallError) as caught:
        await client.ask(make_turn(HELLO))
    assert caught.value.bot == "blue"
    return caught.value


async def test_first_choice_is_the_reply_with_model_and_usage(
    llm: tuple[str, FakeOpenAIServer],
) -> None:
    url, server = llm
    async with client_for(url) as client:
        reply = await client.ask(make_turn(HELLO))
    assert reply.content == "reply to: and in Python?"
    assert reply.end is False
    assert reply.metadata == {"model": "tiny-coder", "usage": USAGE}
    assert server.requests[-1] == {"model": "tiny-coder", "messages": HELLO}


async def test_options_add_system_prompt_temperature_and_max_tokens(
    llm: tuple[str, FakeOpenAIServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, server = llm
    monkeypatch.setenv("BLUE_API_KEY", "sk-test-123")
    options = {"system_prompt": "You are careful.", "temperature": 0.2, "max_tokens": 64}
    async with client_for(url + "/", options=options, token_env="BLUE_API_KEY") as client:
        await client.ask(make_turn(HELLO))
    sent = server.requests[-1]
    assert sent["messages"] == [{"role": "system", "content": "You are careful."}, *HELLO]
    assert (sent["temperature"], sent["max_tokens"]) == (0.2, 64)
    assert server.authorizations[-1] == "Bearer sk-test-123"
    assert "sk-test-123" not in repr(client)


async def test_server_error_status_is_http_status_failure(
    llm: tuple[str, FakeOpenAIServer],
) -> None:
    url, _ = llm
    async with client_for(url, model="overloaded") as client:
        error = await failure_of(client)
    assert error.reason is CallFailure.HTTP_STATUS
    assert "503" in error.detail


async def test_completion_without_choices_is_schema_failure(
    llm: tuple[str, FakeOpenAIServer],
) -> None:
    url, _ = llm
    async with client_for(url, model="no-choices") as client:
        error = await failure_of(client)
    assert error.reason is CallFailure.SCHEMA
    assert error.detail.startswith("choices")


async def test_completion_without_text_is_schema_failure(
    llm: tuple[str, FakeOpenAIServer],
) -> None:
    url, _ = llm
    async with client_for(url, model="tool-call") as client:
        error = await failure_of(client)
    assert error.reason is CallFailure.SCHEMA


async def test_completion_over_size_cap_is_oversized_failure(
    llm: tuple[str, FakeOpenAIServer],
) -> None:
    url, _ = llm
    async with client_for(url, model="verbose", max_reply_bytes=1000) as client:
        error = await failure_of(client)
    assert error.reason is CallFailure.OVERSIZED


async def test_slow_model_is_timeout_failure(llm: tuple[str, FakeOpenAIServer]) -> None:
    url, _ = llm
    async with client_for(url, model="slow", timeout_s=0.2) as client:
        error = await failure_of(client)
    assert error.reason is CallFailure.TIMEOUT


async def test_nothing_listening_is_connection_failure(refused_url: str) -> None:
    async with client_for(refused_url + "v1") as client:
        error = await failure_of(client)
    assert error.reason is CallFailure.CONNECTION


async def test_health_is_true_when_models_answers(
    llm: tuple[str, FakeOpenAIServer], refused_url: str
) -> None:
    url, _ = llm
    async with client_for(url) as client:
        assert await client.health() is True
    async with client_for(url.removesuffix("/v1") + "/v2") as client:
        assert await client.health() is False
    async with client_for(refused_url) as client:
        assert await client.health() is False


def test_unknown_option_is_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="temprature"):
        OpenAIChatClient(
            BotConfig(
                name="blue",
                kind="openai",
                url="http://127.0.0.1:1/v1",
                model="m",
                options={"temprature": 0.2},
            )
        )
