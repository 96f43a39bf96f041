"""LocalModel without llama.cpp: its transcript prompt, and the missing-extra error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from adversarial_arena.core.errors import ConfigError
from adversarial_arena.models import LocalModel, completion_prompt
from adversarial_arena.models.local import FEW_SHOT, PREAMBLE

CHAT = [
    {"role": "system", "content": "Answer with safe code."},
    {"role": "user", "content": "Hash a password."},
    {"role": "assistant", "content": "Use bcrypt."},
    {"role": "user", "content": "In Python?"},
]


def test_system_messages_open_the_text_and_turns_follow_in_order() -> None:
    prompt = completion_prompt(CHAT, preamble="", examples=())
    assert prompt == (
        "Answer with safe code.\n\n"
        "User: Hash a password.\n"
        "Assistant: Use bcrypt.\n\n"
        "User: In Python?\n"
        "Assistant:"
    )


def test_prefix_follows_the_assistant_cue_after_one_space() -> None:
    prompt = completion_prompt(CHAT[1:2], "```python\n", preamble="", examples=())
    assert prompt == "User: Hash a password.\nAssistant: ```python\n"


def test_default_prompt_starts_with_preamble_then_system_then_example() -> None:
    prompt = completion_prompt(CHAT)
    example_user, example_reply = FEW_SHOT[0]
    assert prompt.startswith(f"{PREAMBLE}\n\nAnswer with safe code.\n\nUser: {example_user}\n")
    assert f"Assistant: {example_reply}\n\nUser: Hash a password.\n" in prompt
    assert prompt.endswith("User: In Python?\nAssistant:")


def test_a_system_message_late_in_the_chat_joins_the_opening() -> None:
    late = [*CHAT[1:], {"role": "system", "content": "Be brief."}]
    prompt = completion_prompt(late, preamble="", examples=())
    assert prompt.startswith("Be brief.\n\nUser: Hash a password.\n")
    assert prompt.count("Be brief.") == 1


def test_unknown_roles_speak_as_the_user() -> None:
    prompt = completion_prompt([{"role": "tool", "content": "42"}], preamble="", examples=())
    assert prompt == "User: 42\nAssistant:"


def test_without_llama_cpp_local_model_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if not installed
    model_file = tmp_path / "model.gguf"
    model_file.write_bytes(b"")
    with pytest.raises(ConfigError, match=r"pip install 'adversarial-arena\[local\]'"):
        LocalModel(model_file).load()
