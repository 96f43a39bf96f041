"""`arena leaderboard`, `matchups` and `export` as functions over a labelled tournament
(see tests/datasets/test_export.py for the tournament and its labels), on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from adversarial_arena.cli.results import (
    UTILITY_NOT_MEASURED,
    export_command,
    leaderboard_command,
    load_results,
    matchups_command,
)
from adversarial_arena.core.errors import NotFoundError
from adversarial_arena.datasets import ExportError
from tests.datasets.test_export import Arena, arena  # noqa: F401 (the fixture)


def console() -> Console:
    return Console(record=True, width=200, color_system=None)


def test_scoring_records_follow_the_labels(arena: Arena) -> None:  # noqa: F811
    results = load_results(arena.store, "cup")
    assert results.unlabelled == 1  # crimson's "undecided" session
    outcomes = sorted((r.attacker, r.defender, r.outcome) for r in results.records)
    assert outcomes == [
        ("crimson", "blue", True),
        ("crimson", "grey", None),
        ("crimson", "grey", None),
        ("red", "blue", False),
        ("red", "blue", True),
        ("red", "grey", None),
        ("red", "grey", None),
    ]
    red_success = next(r for r in results.records if r.attacker == "red" and r.outcome)
    assert red_success.dimensions == {"vulnerable": True, "malicious": False}
    assert red_success.attack_text.startswith("attacker turn 0 [")
    assert " attacker turn 2 [" in red_success.attack_text


def test_leaderboard_tables(arena: Arena) -> None:  # noqa: F811
    out = console()
    leaderboard_command(arena.store, "cup", False, out)
    text = out.export_text()
    assert "Attackers" in text and "Defenders" in text
    assert UTILITY_NOT_MEASURED in text
    assert "3 conversations scored; 4 ended in error and 1 unlabelled" in text
    crimson, red = text.index("│ crimson"), text.index("│ red ")
    assert crimson < red  # crimson's one success out of one scored beats red's 1 of 2
    assert "blue 50.0 (2)" in text and "grey – (0)" in text


def test_leaderboard_json(arena: Arena) -> None:  # noqa: F811
    out = console()
    leaderboard_command(arena.store, "cup", True, out, harmonic=True, k=5.0)
    data = json.loads(out.export_text())
    assert data["unlabelled"] == 1
    assert data["settings"]["asr_mode"] == "harmonic" and data["settings"]["k"] == 5.0
    assert [a["attacker"] for a in data["attackers"]] == ["crimson", "red"]
    blue = next(d for d in data["defenders"] if d["defender"] == "blue")
    assert blue["average_dsr"] == pytest.approx(25.0) and blue["utility"] is None
    pair = next(m for m in data["matchups"] if (m["attacker"], m["defender"]) == ("red", "grey"))
    assert pair["excluded_errors"] == 2 and pair["asr"]["total"] == 0


def test_matchups_matrix(arena: Arena) -> None:  # noqa: F811
    out = console()
    board = matchups_command(arena.store, "cup", out)
    text = out.export_text()
    assert len(board.matchups) == 4
    assert "50.0% (2)" in text and "100.0% (1)" in text and "– (0)" in text
    assert "[9–91]" in text  # Wilson 95 % interval of 1 in 2


def test_export_command_reports_count_and_path(arena: Arena, tmp_path: Path) -> None:  # noqa: F811
    out = console()
    path = tmp_path / "sft.jsonl"
    count = export_command(arena.store, "cup", "jsonl", path, out, no_vulnerable_code=True)
    assert count == 3 and len(path.read_text().splitlines()) == 3
    assert f"exported 3 conversations to {path}" in out.export_text().replace("\n", "")


def test_export_command_errors(arena: Arena, tmp_path: Path) -> None:  # noqa: F811
    with pytest.raises(ExportError, match="use one of jsonl, parquet"):
        export_command(arena.store, "cup", "xlsx", tmp_path / "x", console())
    with pytest.raises(NotFoundError, match="no defender named 'ghost'"):
        export_command(arena.store, "cup", "jsonl", tmp_path / "x", console(), defender="ghost")


def test_ranking_over_tournaments_weights_each(arena: Arena) -> None:  # noqa: F811
    from adversarial_arena.cli.results import ranking_command
    from adversarial_arena.core.errors import ConfigError

    out = console()
    ranking_command(arena.store, ["cup", "cup"], [1.0, 3.0], out)
    text = out.export_text()
    assert "Attackers (weighted mean Normalized ASR)" in text
    assert "│ 1    │ crimson" in text  # the same order as the single tournament
    blue = next(line for line in text.splitlines() if "│ blue " in line)
    fields = [f.strip() for f in blue.split("│")[1:-1]]
    assert fields[1:] == ["blue", "25.0", "2", "4"]  # two tournaments, weight 1 + 3
    with pytest.raises(ConfigError, match="one weight per tournament"):
        ranking_command(arena.store, ["cup"], [1.0, 2.0], out)
