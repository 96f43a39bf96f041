"""arena/1 request and response models.

Requests are written by the arena and validated strictly (`extra="forbid"`); responses
come from untrusted bots and are read leniently (unknown fields are ignored) but their
known fields must have the right types.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adversarial_arena.core.ports import TurnRequest
from adversarial_arena.core.types import Role

PROTOCOL: Literal["arena/1"] = "arena/1"


class WireMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ArenaRequest(BaseModel):
    """POST <endpoint>: ask a bot for the message at index `turn` of a session."""

    model_config = ConfigDict(extra="forbid")

    protocol: Literal["arena/1"] = PROTOCOL
    request_id: str = Field(description="Idempotency key: identical on a retry or resend.")
    tournament_id: str
    session_id: str
    batch: int = Field(ge=0, description="Batch of the pair this session was launched in.")
    turn: int = Field(ge=0, description="0-based index of the message to produce.")
    max_turns: int = Field(ge=1, description="Most messages a session can hold (both sides).")
    role: Role = Field(description="The receiving bot's role in this session.")
    deadline: datetime = Field(description="Absolute time by which the reply must arrive.")
    messages: list[WireMessage] = Field(
        description="The conversation so far from the receiving bot's point of view: "
        "its own messages are 'assistant', the opponent's are 'user'."
    )

    @classmethod
    def from_turn(cls, turn: TurnRequest) -> ArenaRequest:
        return cls.model_construct(
            protocol=PROTOCOL,
            request_id=turn.request_id,
            tournament_id=turn.tournament_id,
            session_id=turn.session_id,
            batch=turn.batch,
            turn=turn.turn,
            max_turns=turn.max_turns,
            role=turn.role,
            deadline=datetime.fromtimestamp(turn.deadline, UTC),
            messages=[
                WireMessage.model_construct(role=m["role"], content=m["content"])  # type: ignore[arg-type]
                for m in turn.messages
            ],
        )

    def to_turn(self) -> TurnRequest:
        return TurnRequest(
            request_id=self.request_id,
            tournament_id=self.tournament_id,
            session_id=self.session_id,
            batch=self.batch,
            turn=self.turn,
            max_turns=self.max_turns,
            role=self.role,
            deadline=self.deadline.timestamp(),
            messages=[{"role": m.role, "content": m.content} for m in self.messages],
        )


class ArenaResponse(BaseModel):
    """The bot's answer. `end` is honoured from attackers only."""

    model_config = ConfigDict(extra="ignore")

    content: str
    end: bool = Field(default=False, description="Attacker only: true ends the session.")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Free-form (strategy, reasoning …): stored, never shown to the opponent.",
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    protocol: Literal["arena/1"] = PROTOCOL
    name: str | None = None
    role: Role | None = None
