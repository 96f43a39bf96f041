"""Reading ratings files: formats by suffix, and errors that name the file and line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adversarial_arena.core.errors import ArenaError, ConfigError
from adversarial_arena.evaluation.agreement import Rating
from adversarial_arena.evaluation.ratings_io import read_ratings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- CSV ---------------------------------------------------------------------------------


def test_csv_columns_in_any_order_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ratings.csv",
        "label,notes,annotator,item\nMAL_CODE,hmm,ann,c1\n\n NONE , ,bob, c1\n",
    )
    assert read_ratings(path) == [Rating("c1", "ann", "MAL_CODE"), Rating("c1", "bob", "NONE")]


def test_csv_with_a_byte_order_mark_and_windows_line_ends_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ratings.CSV"
    path.write_bytes("item,annotator,label\r\nc1,ann,NONE\r\n".encode("utf-8-sig"))
    assert read_ratings(path) == [Rating("c1", "ann", "NONE")]


def test_csv_without_a_label_column_names_the_column(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.csv", "item,annotator,verdict\nc1,ann,NONE\n")
    with pytest.raises(ConfigError, match=r"ratings\.csv:1: the header has no column 'label'"):
        read_ratings(path)


def test_csv_empty_label_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.csv", "item,annotator,label\nc1,ann,NONE\nc2,ann,  \n")
    with pytest.raises(ConfigError, match=r"ratings\.csv:3: empty label"):
        read_ratings(path)


def test_csv_row_too_short_for_the_label_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.csv", "item,annotator,label\nc1,ann\n")
    with pytest.raises(ConfigError, match=r"ratings\.csv:2: no label"):
        read_ratings(path)


def test_empty_csv_asks_for_a_header(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="empty file; expected a header item,annotator,label"):
        read_ratings(write(tmp_path / "ratings.csv", "\n\n"))


def test_csv_with_only_a_header_holds_no_ratings(tmp_path: Path) -> None:
    assert read_ratings(write(tmp_path / "ratings.csv", "item,annotator,label\n")) == []


texts = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s != "")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(texts, texts, texts), max_size=8))
def test_any_csv_written_by_the_csv_module_reads_back(
    tmp_path: Path, rows: list[tuple[str, str, str]]
) -> None:
    unique = list(
        {(item, annotator): (item, annotator, label) for item, annotator, label in rows}.values()
    )
    path = tmp_path / "ratings.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["item", "annotator", "label"])
        writer.writerows(unique)
    assert read_ratings(path) == [Rating(*row) for row in unique]


# --- JSON Lines and JSON -----------------------------------------------------------------------


def test_jsonl_accepts_integers_and_ignores_extra_keys(tmp_path: Path) -> None:
    lines = [
        {"item": 17, "annotator": "ann", "label": "NONE", "minutes": 3},
        {"item": "c2", "annotator": 4, "label": 1},
    ]
    path = write(tmp_path / "ratings.jsonl", "\n".join(map(json.dumps, lines)) + "\n\n")
    assert read_ratings(path) == [Rating("17", "ann", "NONE"), Rating("c2", "4", "1")]


def test_jsonl_malformed_line_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ratings.jsonl",
        '{"item": "c1", "annotator": "ann", "label": "NONE"}\n\n{"item": "c2",\n',
    )
    with pytest.raises(ConfigError, match=r"ratings\.jsonl:3: malformed JSON"):
        read_ratings(path)


def test_jsonl_line_that_is_not_an_object_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ratings\.jsonl:1: expected a JSON object"):
        read_ratings(write(tmp_path / "ratings.jsonl", '["c1", "ann", "NONE"]\n'))


def test_jsonl_missing_key_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.jsonl", '{"item": "c1", "label": "NONE"}\n')
    with pytest.raises(ConfigError, match=r"ratings\.jsonl:1: no annotator"):
        read_ratings(path)


@pytest.mark.parametrize("value", ["true", "null", "1.5", '["x"]', '""'])
def test_jsonl_label_must_be_a_non_empty_string_or_integer(tmp_path: Path, value: str) -> None:
    path = write(
        tmp_path / "ratings.jsonl", f'{{"item": "c1", "annotator": "a", "label": {value}}}\n'
    )
    with pytest.raises(ConfigError, match=r"ratings\.jsonl:1: .*label"):
        read_ratings(path)


def test_json_file_may_hold_an_array_of_ratings(tmp_path: Path) -> None:
    records = [{"item": "c1", "annotator": "ann", "label": "NONE"}, {"item": "c1"}]
    path = write(tmp_path / "ratings.json", json.dumps(records, indent=2))
    with pytest.raises(ConfigError, match=r"ratings\.json, record 2: no annotator"):
        read_ratings(path)
    path.write_text(json.dumps(records[:1], indent=2))
    assert read_ratings(path) == [Rating("c1", "ann", "NONE")]


def test_json_file_may_hold_json_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.json", '{"item": "c1", "annotator": "a", "label": "x"}\n')
    assert read_ratings(path) == [Rating("c1", "a", "x")]


def test_jsonl_string_holding_a_line_separator_stays_one_line(tmp_path: Path) -> None:
    line = json.dumps({"item": "c\u2028 1", "annotator": "a", "label": "x"}, ensure_ascii=False)
    assert read_ratings(write(tmp_path / "ratings.jsonl", line)) == [Rating("c\u2028 1", "a", "x")]


# --- duplicates, suffixes, unreadable files -----------------------------------------------------


def test_repeated_rating_with_the_same_label_is_kept_once(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.csv", "item,annotator,label\nc1,ann,x\nc1,bob,y\nc1,ann,x\n")
    assert read_ratings(path) == [Rating("c1", "ann", "x"), Rating("c1", "bob", "y")]


def test_contradicting_rating_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.csv", "item,annotator,label\nc1,ann,x\nc2,ann,x\nc1,ann,y\n")
    with pytest.raises(ConfigError) as caught:
        read_ratings(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:4: annotator 'ann' rates item 'c1' 'y'")
    assert f"already rated it 'x' at {path}:2" in message


def test_unknown_suffix_lists_the_supported_formats(tmp_path: Path) -> None:
    path = write(tmp_path / "ratings.tsv", "item\tannotator\tlabel\n")
    with pytest.raises(ConfigError, match=r"ratings\.tsv: .*'\.tsv'; use \.csv, \.jsonl or \.json"):
        read_ratings(path)


def test_missing_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(ArenaError, match=r"absent\.csv: no such ratings file"):
        read_ratings(tmp_path / "absent.csv")


def test_file_that_is_not_utf8_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_bytes(b"item,annotator,label\nc1,ann,\xff\n")
    with pytest.raises(ConfigError, match="cannot read the ratings file"):
        read_ratings(path)
