"""The text-model seam: what a reference defender (or any built-in bot) calls for text.

A `TextModel` turns chat messages into a reply. Implementations: `OpenAIModel` (any
OpenAI-compatible server), `LocalModel` (a GGUF model run in-process by llama.cpp, the
`[local]` extra) and the tests' fakes. Failures are raised as `BotCallError` with the
model's name, so a bot built on a model reports TIMEOUT, CONNECT … like any bot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

Messages = Sequence[Mapping[str, str]]


class TextModel(Protocol):
    """A chat model. `messages` have roles system / user / assistant."""

    name: str

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
        """The model's reply. With `prefix`, the reply is made to begin with it (the
        model continues it) and the returned text includes it. `deadline` is an
        absolute UNIX time: a local model stops there and returns what it has; a
        remote one fails with TIMEOUT."""
        ...

    async def aclose(self) -> None: ...
