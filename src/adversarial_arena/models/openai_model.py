"""`OpenAIModel`: a TextModel served by any OpenAI-compatible /v1/chat/completions.

vLLM, llama.cpp server, Ollama, a hosted API, or `arena serve-model`. It shares the
`openai` bot client's transport (pooled, size-capped, deadline-bound) and its reading
of the completion. `prefix` is sent as a trailing assistant message, the prefill
convention of llama.cpp's server and of `arena serve-model` (vLLM needs
continue_final_message for it); a server that ignores it answers from scratch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from pydantic import SecretStr

from adversarial_arena.bots._transport import JsonTransport, child_url
from adversarial_arena.bots.openai import _COMPLETION
from adversarial_arena.core.errors import CallFailure
from adversarial_arena.models.base import Messages


class OpenAIModel:
    """Asks `model` at the API base `url` (http://host:port/v1); failures are
    BotCallError under `name`, the token never appears in them."""

    def __init__(
        self,
        name: str,
        url: str,
        model: str,
        *,
        token: SecretStr | str | None = None,
        timeout_s: float = 45.0,
        max_concurrency: int = 4,
        max_reply_bytes: int = 1_000_000,
    ) -> None:
        self.name = name
        self.url = url
        self.model = model
        self.timeout_s = timeout_s
        self._completions_url = child_url(url, "chat/completions")
        self._transport = JsonTransport(
            name,
            timeout_s=timeout_s,
            max_concurrency=max_concurrency,
            max_reply_bytes=max_reply_bytes,
            token=SecretStr(token) if isinstance(token, str) else token,
        )

    def __repr__(self) -> str:
        return f"OpenAIModel(name={self.name!r}, url={self.url!r}, model={self.model!r})"

    def _body(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        temperature: float,
        prefix: str,
        stop: Sequence[str],
    ) -> bytes:
        sent = [{"role": m["role"], "content": m["content"]} for m in messages]
        if prefix:
            sent.append({"role": "assistant", "content": prefix})
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": sent,
            "max_tokens": max_tokens,
            "temperature": temperature,
        }
        if stop:
            payload["stop"] = list(stop)
        return json.dumps(payload, ensure_ascii=False).encode()

    async def generate(
        self,
        messages: Messages,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        prefix: str = "",
        stop: Sequence[str] = (),
        deadline: float | None = None,
    ) -> str:
        """The reply (see TextModel): `prefix` + the server's text. Without a deadline
        the call may take `timeout_s`."""
        body = self._body(
            messages, max_tokens=max_tokens, temperature=temperature, prefix=prefix, stop=stop
        )
        if deadline is None:
            deadline = time.time() + self.timeout_s
        data = await self._transport.post_json(self._completions_url, body, deadline)
        completion = self._transport.validate(_COMPLETION, data)
        content = completion.choices[0].message.content
        if content is None:
            raise self._transport.failure(
                CallFailure.SCHEMA, "choices.0.message.content: the model returned no text"
            )
        return prefix + content

    async def aclose(self) -> None:
        await self._transport.aclose()
