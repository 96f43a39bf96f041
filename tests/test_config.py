"""Config files: valid ones load; broken ones give one located, readable error."""

from __future__ import annotations

from pathlib import Path

import pytest

from adversarial_arena.config import load_config, parse_config
from adversarial_arena.core.errors import ConfigError
from adversarial_arena.core.types import Mode

VALID = """\
name: spring-tournament-1
mode: official
conversations_per_pair: 200
max_turn_pairs: 5
batch_size: 20
seed: 7
attackers:
  - name: team-red
    kind: http
    url: http://127.0.0.1:9001/
    token_env: TEAM_RED_TOKEN
    max_concurrency: 8
    requests_per_minute: 600
    timeout_s: 45
defenders:
  - name: team-blue
    kind: openai
    url: http://127.0.0.1:8000/v1
    model: my-coder
    timeout_s: 45
pairs:
  - {attacker: team-red, defender: team-blue, conversations: 400}
"""


def broken(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "t.yaml")
    return str(caught.value)


def test_the_spec_example_loads_with_its_quota_override() -> None:
    config = parse_config(VALID)
    assert config.mode is Mode.OFFICIAL
    assert config.max_turns == 10
    assert config.quota("team-red", "team-blue") == 400
    assert config.attackers[0].token_env == "TEAM_RED_TOKEN"


def test_wrong_type_names_file_line_and_field() -> None:
    message = error_of(broken("    timeout_s: 45\ndefenders", "    timeout_s: soon\ndefenders"))
    assert message.startswith("t.yaml:14: attackers[0].timeout_s:")
    assert "valid number" in message and "'soon'" in message


def test_unknown_field_is_rejected_with_its_line() -> None:
    message = error_of(broken("    model: my-coder\n", "    model: my-coder\n    colour: blue\n"))
    assert message == "t.yaml:20: defenders[0].colour: unknown field"


def test_pair_naming_a_missing_bot_is_located() -> None:
    message = error_of(broken("defender: team-blue, conv", "defender: team-bleu, conv"))
    assert message.startswith("t.yaml:22: pairs[0].defender: no defender named 'team-bleu'")
    assert "known: team-blue" in message


def test_bot_kind_without_what_it_needs_is_explained() -> None:
    message = error_of(broken("    model: my-coder\n", ""))
    assert "t.yaml:16: defenders[0]:" in message
    assert "a bot of kind 'openai' needs model" in message


def test_missing_required_field_points_at_its_parent() -> None:
    message = error_of(broken("name: spring-tournament-1\n", ""))
    assert message == "t.yaml:1: name: required field is missing"


def test_duplicate_bot_names_are_rejected() -> None:
    message = error_of(broken("  - name: team-blue", "  - name: team-red"))
    assert "bot name 'team-red' is used twice" in message


def test_invalid_yaml_says_where() -> None:
    message = error_of("name: x\nattackers: [\n")
    assert message.startswith("t.yaml:3: not valid YAML")


def test_a_token_in_the_file_is_not_a_field() -> None:
    message = error_of(broken("    token_env: TEAM_RED_TOKEN", "    token: s3cr3t"))
    assert "attackers[0].token: unknown field" in message
    assert "s3cr3t" not in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.yaml")
