"""The OpenAI-compatible server over a TextModel, on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from adversarial_arena.core.errors import BotCallError, CallFailure
from adversarial_arena.models import Messages, OpenAIModel, make_openai_app
from adversarial_arena.models.server import MAX_REQUEST_BYTES
from adversarial_arena.testing import serve_in_thread

ASK = [{"role": "user", "content": "Hash a password."}]


@dataclass
class EchoModel:
    """A deterministic TextModel: says back the last message; some words make it fail."""

    name: str = "echo"
    calls: list[dict[str, Any]] = field(default_factory=list)

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
        self.calls.append(
            {
                "messages": [dict(m) for m in messages],
                "max_tokens": max_tokens,
                "temperature": temperature,
                "prefix": prefix,
                "stop": list(stop),
                "deadline": deadline,
            }
        )
        last = messages[-1]["content"]
        if last == "slow":
            raise BotCallError(self.name, CallFailure.TIMEOUT, "the deadline passed")
        if last == "crash":
            raise RuntimeError("secret internals")
        return prefix + f"echo: {last}"

    async def aclose(self) -> None:
        pass


@pytest.fixture(scope="module")
def echo() -> EchoModel:
    return EchoModel()


@pytest.fixture(scope="module")
def url(echo: EchoModel) -> Iterator[str]:
    with serve_in_thread(make_openai_app(echo, model_name="echo-1")) as base:
        yield base


def chat(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=10)


async def test_openai_model_gets_the_model_reply(url: str, echo: EchoModel) -> None:
    model = OpenAIModel("blue", url + "/v1", "echo-1")
    try:
        reply = await model.generate(ASK, max_tokens=17, temperature=0.3, stop=["\nUser:"])
    finally:
        await model.aclose()
    assert reply == "echo: Hash a password."
    call = dict(echo.calls[-1])
    assert call.pop("deadline") > time.time()
    assert call == {
        "messages": ASK,
        "max_tokens": 17,
        "temperature": 0.3,
        "prefix": "",
        "stop": ["\nUser:"],
    }


def test_completion_has_the_openai_shape(url: str) -> None:
    response = chat(url, {"model": "echo-1", "messages": ASK})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "echo-1"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "echo: Hash a password.",
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_trailing_assistant_message_is_continued_and_only_the_rest_returned(
    url: str, echo: EchoModel
) -> None:
    prefill = [*ASK, {"role": "assistant", "content": "```python\n"}]
    response = chat(url, {"messages": prefill, "stop": "```"})
    assert response.json()["choices"][0]["message"]["content"] == "echo: Hash a password."
    assert echo.calls[-1]["messages"] == ASK
    assert (echo.calls[-1]["prefix"], echo.calls[-1]["stop"]) == ("```python\n", ["```"])


async def test_openai_model_prefix_round_trip_keeps_the_prefix_once(url: str) -> None:
    model = OpenAIModel("blue", url + "/v1", "echo-1")
    try:
        assert await model.generate(ASK, prefix="Sure: ") == "Sure: echo: Hash a password."
    finally:
        await model.aclose()


def test_max_tokens_defaults_and_is_capped(url: str, echo: EchoModel) -> None:
    chat(url, {"messages": ASK})
    assert echo.calls[-1]["max_tokens"] == 256
    chat(url, {"messages": ASK, "max_tokens": 1_000_000})
    assert echo.calls[-1]["max_tokens"] == 2048


def test_streaming_is_refused_with_400(url: str) -> None:
    response = chat(url, {"messages": ASK, "stream": True})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "stream"


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages.0.role"),
        ({"messages": [{"role": "user"}]}, "messages.0.content"),
        ({"messages": []}, "messages"),
        ({"messages": ASK, "max_tokens": 0}, "max_tokens"),
        ({"messages": ASK, "temperature": "hot"}, "temperature"),
    ],
)
def test_invalid_body_is_422_naming_the_field(
    url: str, body: dict[str, Any], field_name: str
) -> None:
    response = chat(url, body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["param"] == field_name
    assert error["message"].startswith(field_name + ":")


def test_body_that_is_not_json_is_400(url: str) -> None:
    response = httpx.post(url + "/v1/chat/completions", content=b"{nope", timeout=10)
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]["message"]


def test_model_timeout_is_504_and_other_failures_500_without_traceback(url: str) -> None:
    slow = chat(url, {"messages": [{"role": "user", "content": "slow"}]})
    assert slow.status_code == 504
    assert slow.json()["error"]["message"].startswith("timeout")
    crash = chat(url, {"messages": [{"role": "user", "content": "crash"}]})
    assert crash.status_code == 500
    assert crash.json()["error"]["message"] == "the model raised RuntimeError"


def test_models_and_health(url: str) -> None:
    models = httpx.get(url + "/v1/models", timeout=10).json()
    assert [entry["id"] for entry in models["data"]] == ["echo-1"]
    assert httpx.get(url + "/health", timeout=10).status_code == 200


def test_every_request_gets_the_server_deadline(echo: EchoModel) -> None:
    with serve_in_thread(make_openai_app(echo, model_name="echo-1", timeout_s=7)) as base:
        started = time.time()
        chat(base, {"messages": ASK})
    deadline = echo.calls[-1]["deadline"]
    assert started + 6 < deadline <= time.time() + 7


def test_a_request_over_the_size_cap_is_413(url: str) -> None:
    huge = {"messages": [{"role": "user", "content": "x" * MAX_REQUEST_BYTES}]}
    response = chat(url, huge)
    assert response.status_code == 413
    assert "bytes" in response.json()["error"]["message"]
