"""ScriptedBot: a bot for tests that records what it receives and misbehaves on demand.

It is a real ASGI app built with the SDK (serve it with `serve_in_thread`), so tests talk
to it over HTTP exactly as the arena talks to a team's bot.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from adversarial_arena.core.ports import TurnRequest
from adversarial_arena.sdk import make_app


@dataclass(frozen=True, slots=True)
class Received:
    """One HTTP request as the bot saw it (before duplicate handling)."""

    request_id: str
    session_id: str
    turn: int
    messages: list[dict[str, str]]
    at: float  # time.monotonic() when it arrived


def deterministic_reply(messages: list[dict[str, str]], context: TurnRequest) -> str:
    """A reply that depends only on what was asked: a resend gets the same text."""
    digest = hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:10]
    return f"{context.role.value} turn {context.turn} [{digest}]"


class ScriptedBot:
    def __init__(
        self,
        reply: Callable[[list[dict[str, str]], TurnRequest], Any] = deterministic_reply,
        *,
        delay_s: float = 0.0,
        fail: Callable[[TurnRequest, int], bool] | None = None,
        name: str | None = None,
        role: str | None = None,
    ) -> None:
        self._reply = reply
        self.delay_s = delay_s
        self.fail = fail  # (request, nth call of this request_id) -> answer 500?
        self.down = False  # every request (health included) gets 503
        self.received: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._inner = make_app(self._answer, name=name, role=role)

    async def _answer(self, messages: list[dict[str, str]], context: TurnRequest) -> Any:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            nth = self._attempts[context.request_id] = self._attempts.get(context.request_id, 0) + 1
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if self.fail is not None and self.fail(context, nth):
                raise RuntimeError("scripted failure")
            return self._reply(messages, context)
        finally:
            with self._lock:
                self.in_flight -= 1

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        if self.down:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"down"})
            return
        if scope["method"] != "POST":
            await self._inner(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self._record(body)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return dict(await receive())
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self._inner(scope, replay, send)

    def _record(self, body: bytes) -> None:
        try:
            data = json.loads(body)
            item = Received(
                data["request_id"],
                data["session_id"],
                data["turn"],
                data["messages"],
                time.monotonic(),
            )
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:
            self.received.append(item)
