"""The committed arena/1 documents match the models, and the models keep their contract."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from adversarial_arena.protocol import ArenaRequest, ArenaResponse
from adversarial_arena.protocol.schema import (
    OPENAPI_FILE,
    SCHEMA_FILE,
    json_schema,
    openapi,
    render,
)
from adversarial_arena.testing import make_turn


def test_committed_json_schema_matches_the_models() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(json_schema()), (
        "run: python -m adversarial_arena.protocol.schema --write"
    )


def test_committed_openapi_matches_the_models() -> None:
    assert OPENAPI_FILE.read_text(encoding="utf-8") == render(openapi()), (
        "run: python -m adversarial_arena.protocol.schema --write"
    )


def test_request_names_every_field_the_spec_lists() -> None:
    fields = set(json.loads(SCHEMA_FILE.read_text())["$defs"]["ArenaRequest"]["properties"])
    assert fields == {
        "protocol",
        "request_id",
        "tournament_id",
        "session_id",
        "batch",
        "turn",
        "max_turns",
        "role",
        "deadline",
        "messages",
    }


def test_a_turn_survives_the_wire_round_trip() -> None:
    turn = make_turn([{"role": "user", "content": "hi"}], request_id="s.1")
    wire = ArenaRequest.from_turn(turn).model_dump_json()
    back = ArenaRequest.model_validate_json(wire).to_turn()
    assert back.request_id == "s.1" and back.messages == [{"role": "user", "content": "hi"}]
    assert abs(back.deadline - turn.deadline) < 1e-3
    assert json.loads(wire)["protocol"] == "arena/1"


def test_a_response_needs_string_content_and_ignores_unknown_fields() -> None:
    reply = ArenaResponse.model_validate({"content": "x", "extra": 1})
    assert (reply.content, reply.end, reply.metadata) == ("x", False, {})
    with pytest.raises(ValidationError):
        ArenaResponse.model_validate({"content": 3})
