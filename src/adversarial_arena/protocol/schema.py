"""Generate the committed JSON Schema and OpenAPI documents from the models.

    python -m adversarial_arena.protocol.schema --write

regenerates them; a test fails when the committed files drift from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from adversarial_arena.protocol.models import PROTOCOL, ArenaRequest, ArenaResponse, Health

HERE = Path(__file__).parent
SCHEMA_FILE = HERE / "arena-1.schema.json"
OPENAPI_FILE = HERE / "arena-1.openapi.json"


def json_schema() -> dict[str, Any]:
    _, schema = models_json_schema(
        [(ArenaRequest, "validation"), (ArenaResponse, "validation"), (Health, "validation")],
        ref_template="#/$defs/{model}",
        title=f"Adversarial Arena bot protocol {PROTOCOL}",
    )
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def openapi() -> dict[str, Any]:
    _, components = models_json_schema(
        [(ArenaRequest, "validation"), (ArenaResponse, "validation"), (Health, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    ref = "#/components/schemas/"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Adversarial Arena bot protocol",
            "version": PROTOCOL,
            "description": "What a bot serves so the arena can call it. Bots are stateless: "
            "every request carries the whole conversation. A repeated request_id must get "
            "the same answer.",
        },
        "paths": {
            "/": {
                "post": {
                    "summary": "Produce the message at index `turn` of a session",
                    "operationId": "take_turn",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": ref + "ArenaRequest"}}},
                    },
                    "responses": {
                        "200": {
                            "description": "The bot's message",
                            "content": {
                                "application/json": {"schema": {"$ref": ref + "ArenaResponse"}}
                            },
                        }
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "Readiness",
                    "operationId": "health",
                    "responses": {
                        "200": {
                            "description": "Ready",
                            "content": {"application/json": {"schema": {"$ref": ref + "Health"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": components["$defs"]},
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if "--write" in argv:
        SCHEMA_FILE.write_text(render(json_schema()), encoding="utf-8")
        OPENAPI_FILE.write_text(render(openapi()), encoding="utf-8")
        return 0
    sys.stdout.write(render(openapi()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
