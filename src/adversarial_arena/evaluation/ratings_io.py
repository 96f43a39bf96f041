"""Read human ratings (item, annotator, label) from a CSV or JSON Lines file.

The suffix picks the format:

- `.csv`: a header row naming the columns `item`, `annotator` and `label` (in any
  order; other columns are ignored), then one rating per row; blank rows are skipped.
- `.jsonl`: one JSON object per line with the keys `item`, `annotator` and `label`
  (other keys ignored); blank lines are skipped.
- `.json`: the same as `.jsonl`, or one JSON array of such objects.

Values are strings (surrounding whitespace dropped) or, in JSON, integers. A rating
repeated with the same label is kept once. Every problem is a `ConfigError` naming the
file and line (`ratings.csv:7: empty label`) so the CLI can print one line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from adversarial_arena.core.errors import ConfigError
from adversarial_arena.evaluation.agreement import Rating

COLUMNS = ("item", "annotator", "label")

# (where, rating): `where` is "file:line" (or "file, record n" in a JSON array)
Located = tuple[str, Rating]


def read_ratings(path: Path) -> list[Rating]:
    """Every rating in the file, in file order, each (item, annotator) pair once."""
    readers: dict[str, Callable[[str, str], Iterator[Located]]] = {
        ".csv": _csv_ratings,
        ".jsonl": _jsonl_ratings,
        ".json": _json_ratings,
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise ConfigError(
            f"{path}: cannot tell the format of a ratings file from its suffix "
            f"{path.suffix or '(none)'!r}; use .csv, .jsonl or .json"
        )
    return _without_repeats(reader(_read_text(path), str(path)))


def _read_text(path: Path) -> str:
    try:
        # -sig: spreadsheets write a BOM; newline="": the csv module wants line ends as is
        with path.open(encoding="utf-8-sig", newline="") as file:
            return file.read()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such ratings file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the ratings file ({exc})") from None


def _without_repeats(located: Iterator[Located]) -> list[Rating]:
    first: dict[tuple[str, str], tuple[str, str]] = {}  # (item, annotator) → (label, where)
    ratings: list[Rating] = []
    for where, rating in located:
        key = (rating.item, rating.annotator)
        if key not in first:
            first[key] = (rating.label, where)
            ratings.append(rating)
        elif first[key][0] != rating.label:
            label, there = first[key]
            raise ConfigError(
                f"{where}: annotator {rating.annotator!r} rates item {rating.item!r} "
                f"{rating.label!r}, but already rated it {label!r} at {there}"
            )
    return ratings


def _csv_ratings(text: str, source: str) -> Iterator[Located]:
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next((row for row in rows if any(cell.strip() for cell in row)), None)
        if header is None:
            raise ConfigError(f"{source}: empty file; expected a header {','.join(COLUMNS)}")
        columns = _header_columns(header, f"{source}:{rows.line_num}")
        for row in rows:
            if any(cell.strip() for cell in row):
                where = f"{source}:{rows.line_num}"
                cells = {name: row[i] if i < len(row) else None for name, i in columns.items()}
                yield where, _rating(cells, where)
    except csv.Error as exc:
        raise ConfigError(f"{source}:{rows.line_num}: not valid CSV ({exc})") from None


def _header_columns(header: list[str], where: str) -> dict[str, int]:
    names = [cell.strip() for cell in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise ConfigError(
            f"{where}: the header has no column {', '.join(map(repr, missing))} "
            f"(it has {', '.join(map(repr, names))}; needed: {', '.join(COLUMNS)})"
        )
    return {column: names.index(column) for column in COLUMNS}


def _jsonl_ratings(text: str, source: str) -> Iterator[Located]:
    # split on "\n" only: a JSON string may hold U+2028, which splitlines() breaks on
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: malformed JSON ({exc.msg}, column {exc.colno})") from None
        yield where, _record_rating(record, where)


def _json_ratings(text: str, source: str) -> Iterator[Located]:
    if not text.lstrip().startswith("["):
        yield from _jsonl_ratings(text, source)
        return
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}:{exc.lineno}: malformed JSON ({exc.msg})") from None
    for number, record in enumerate(records, start=1):
        where = f"{source}, record {number}"
        yield where, _record_rating(record, where)


def _record_rating(record: Any, where: str) -> Rating:
    if not isinstance(record, dict):
        raise ConfigError(
            f"{where}: expected a JSON object with keys {', '.join(COLUMNS)}, "
            f"got {type(record).__name__}"
        )
    cells: dict[str, str | None] = {}
    for key in COLUMNS:
        value = record.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is not None and not isinstance(value, str):
            raise ConfigError(
                f"{where}: {key!r} must be a string or an integer, got {json.dumps(value)}"
            )
        cells[key] = value
    return _rating(cells, where)


def _rating(cells: dict[str, str | None], where: str) -> Rating:
    """A rating from its three raw values; a missing or blank value is an error."""
    values: list[str] = []
    for key in COLUMNS:
        raw = cells[key]
        if raw is None:
            raise ConfigError(f"{where}: no {key} (every rating needs {', '.join(COLUMNS)})")
        if not raw.strip():
            raise ConfigError(f"{where}: empty {key}")
        values.append(raw.strip())
    return Rating(*values)
