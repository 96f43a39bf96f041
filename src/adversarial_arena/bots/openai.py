"""Client for `openai` bots: any OpenAI-compatible /v1/chat/completions server.

vLLM, llama.cpp server, Ollama, TGI or a hosted API, used directly as a defender or as
the LLM inside a built-in bot (SPEC §1). `url` is the API base (http://host:port/v1).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from adversarial_arena.bots._transport import JsonTransport, child_url, read_token
from adversarial_arena.config import BotConfig
from adversarial_arena.core.errors import CallFailure, ConfigError
from adversarial_arena.core.ports import TurnRequest
from adversarial_arena.core.types import BotReply


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    content: str | None = None  # null when the model answered with a tool call only


class _Choice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    message: _Message


class _Completion(BaseModel):
    """The part of a chat completion the arena reads; the rest is ignored."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    choices: list[_Choice] = Field(min_length=1)
    usage: dict[str, Any] | None = None


_COMPLETION = TypeAdapter(_Completion)


class _Options(BaseModel):
    """What `options:` may hold for an openai bot."""

    model_config = ConfigDict(extra="forbid")
    system_prompt: str | None = None
    temperature: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)


def _options(config: BotConfig) -> _Options:
    try:
        return _Options.model_validate(config.options)
    except ValueError as exc:
        raise ConfigError(f"bot '{config.name}': options: {exc}") from None


class OpenAIChatClient:
    """Sends the turn's messages as a chat completion; the first choice is the reply."""

    def __init__(self, config: BotConfig) -> None:
        if config.url is None or config.model is None:
            raise ConfigError(f"bot '{config.name}': an openai bot needs a url and a model")
        self.name = config.name
        self.url = config.url
        self.model = config.model
        self._completions_url = child_url(config.url, "chat/completions")
        self._models_url = child_url(config.url, "models")
        self._options = _options(config)
        self._transport = JsonTransport(
            config.name,
            timeout_s=config.timeout_s,
            max_concurrency=config.max_concurrency,
            max_reply_bytes=config.max_reply_bytes,
            token=read_token(config.name, config.token_env),
        )

    def __repr__(self) -> str:
        return f"OpenAIChatClient(name={self.name!r}, url={self.url!r}, model={self.model!r})"

    def _body(self, request: TurnRequest) -> bytes:
        messages: list[dict[str, str]] = []
        if self._options.system_prompt is not None:
            messages.append({"role": "system", "content": self._options.system_prompt})
        messages.extend(request.messages)
        payload: dict[str, Any] = {"model": self.model, "messages": messages}
        if self._options.temperature is not None:
            payload["temperature"] = self._options.temperature
        if self._options.max_tokens is not None:
            payload["max_tokens"] = self._options.max_tokens
        return json.dumps(payload, ensure_ascii=False).encode()

    async def ask(self, request: TurnRequest) -> BotReply:
        data = await self._transport.post_json(
            self._completions_url, self._body(request), request.deadline
        )
        completion = self._transport.validate(_COMPLETION, data)
        content = completion.choices[0].message.content
        if content is None:
            raise self._transport.failure(
                CallFailure.SCHEMA, "choices.0.message.content: the model returned no text"
            )
        metadata = {"model": completion.model or self.model, "usage": completion.usage}
        return BotReply(content=content, end=False, metadata=metadata)

    async def health(self) -> bool:
        return await self._transport.get_ok(self._models_url)

    async def aclose(self) -> None:
        await self._transport.aclose()
