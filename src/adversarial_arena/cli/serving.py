"""`arena serve-bot`, `arena serve-model`, `arena bots list`, and the quick start's
step that serves a config's built-in bots over HTTP on loopback."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from adversarial_arena.bots.reference import builtin_function, describe_builtins
from adversarial_arena.cli.render import safe
from adversarial_arena.config import BotConfig, TournamentConfig
from adversarial_arena.core.errors import ArenaError, ConfigError
from adversarial_arena.core.types import Role
from adversarial_arena.evaluation.findings import severity_rank
from adversarial_arena.sdk._adapter import BotFunction
from adversarial_arena.store import Store
from adversarial_arena.store import results as r

EXAMPLE_FINDINGS = 6


def parse_options(pairs: Sequence[str]) -> dict[str, Any]:
    """`key=value` strings → options; each value is read as YAML (`seed=7` is 7)."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option {pair!r}: expected key=value, e.g. --option seed=7")
        try:
            options[key.strip()] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            options[key.strip()] = value
    return options


def load_model_now(fn: BotFunction) -> None:
    """Load the local model behind a built-in defender now, not on its first turn, so a
    missing `[local]` extra or model file is reported before anything is served."""
    load = getattr(getattr(fn, "model", None), "load", None)
    if callable(load):
        load()


def build_builtin(config: BotConfig) -> tuple[Role, BotFunction]:
    """The role and (loaded) function of a `kind: builtin` bot config."""
    role, fn = builtin_function(config.builtin or "", config)
    load_model_now(fn)
    return role, fn


def check_port(host: str, port: int) -> None:
    """ArenaError unless host:port can be listened on (checked before a model loads)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ArenaError(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port"
            ) from None


def serve_bot_command(name: str, config: BotConfig, host: str, port: int, console: Console) -> None:
    """Serve the built-in bot `name` on host:port until interrupted."""
    from adversarial_arena.sdk import serve

    check_port(host, port)
    role, fn = build_builtin(config)
    console.print(
        Text.assemble(
            "serving the built-in ",
            (role.value, "bold"),
            f" {name} as '{config.name}' at ",
            (f"http://{host}:{port}/", "bold"),
            " (Ctrl-C stops)",
        )
    )
    serve(fn, host=host, port=port, name=config.name, role=role)


def serve_model_command(
    model_path: Path | None,
    name: str,
    n_ctx: int,
    timeout_s: float,
    host: str,
    port: int,
    console: Console,
) -> None:
    """Serve the local model as an OpenAI-compatible API until interrupted."""
    from adversarial_arena.models import LocalModel, serve_model

    check_port(host, port)
    model = LocalModel(model_path, n_ctx=n_ctx, name=name)
    with console.status("loading the local model"):
        model.load()
    console.print(
        Text.assemble(
            f"serving the local model '{name}' at ",
            (f"http://{host}:{port}/v1", "bold"),
            " (OpenAI-compatible chat completions; Ctrl-C stops)",
        )
    )
    serve_model(model, host=host, port=port, model_name=name, timeout_s=timeout_s)


def builtins_table() -> Table:
    table = Table(title="Built-in bots", title_justify="left")
    for column in ("name", "role", "what it is"):
        table.add_column(column)
    for name, role, summary in describe_builtins():
        table.add_row(name, role, summary)
    return table


@contextlib.contextmanager
def served_builtins(config: TournamentConfig) -> Iterator[TournamentConfig]:
    """`config` with every built-in bot served over HTTP on a loopback port, as
    `arena serve-bot` serves it, and named by its URL (`kind: http`) instead."""
    from adversarial_arena.sdk import make_app
    from adversarial_arena.testing import serve_in_thread

    with contextlib.ExitStack() as stack:

        def over_http(bot: BotConfig) -> dict[str, Any]:
            data = bot.model_dump(exclude_defaults=True)
            if bot.kind != "builtin":
                return data
            role, fn = build_builtin(bot)
            url = stack.enter_context(serve_in_thread(make_app(fn, name=bot.name, role=role)))
            for field in ("builtin", "options", "model", "token_env"):
                data.pop(field, None)
            return {**data, "kind": "http", "url": url + "/"}

        served = config.model_dump(exclude_defaults=True)
        served["name"] = config.name
        served["attackers"] = [over_http(bot) for bot in config.attackers]
        served["defenders"] = [over_http(bot) for bot in config.defenders]
        yield TournamentConfig.model_validate(served)


def unused_name(store: Store, name: str) -> str:
    """`name`, or `name-2`, `name-3` … when the store already has a tournament so named."""
    taken = {row.name for row in store.list_tournaments()}
    if name not in taken:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"


def found_code_table(
    store: Store, tournament_id: str, threshold: str = "medium", limit: int = EXAMPLE_FINDINGS
) -> Table:
    """Examples of the code the analyzers flagged in the defenders' replies, most severe
    first and one per CWE before any repeat, with the session to `arena show`. Findings
    below `threshold` (which do not make a session vulnerable) are shown only when none
    reaches it, and the title says so."""
    sessions = r.tournament_sessions(store, tournament_id, statuses=("completed",))
    defender_of = {s.id: s.defender for s in sessions}
    rows = [row for found in r.session_findings(store, list(defender_of)).values() for row in found]
    rows.sort(key=lambda row: -severity_rank(row.severity))
    counted = [row for row in rows if severity_rank(row.severity) >= severity_rank(threshold)]
    title = f"Vulnerable code found in defender replies ({len(counted)} at or above {threshold})"
    if not counted and rows:
        title = (
            f"No finding at or above {threshold} in defender replies; the {len(rows)} below "
            "it (not counted as vulnerable)"
        )
    shown = counted or rows
    seen: set[str] = set()
    first_of_cwe = []
    for row in shown:
        if ",".join(row.cwe_ids) not in seen:
            seen.add(",".join(row.cwe_ids))
            first_of_cwe.append(row)
    chosen = (first_of_cwe + [row for row in shown if row not in first_of_cwe])[:limit]
    table = Table(title=title, title_justify="left")
    for column in ("session", "defender", "turn", "CWE", "severity", "code", "finding"):
        table.add_column(column, overflow="fold")
    for row in chosen:
        table.add_row(
            row.session_id,
            safe(defender_of[row.session_id]),
            str(row.turn),
            ", ".join(row.cwe_ids),
            row.severity,
            safe((row.snippet or "").strip()[:80]),
            safe(row.message[:70]),
        )
    return table


def guard_catches_table(store: Store, tournament_id: str) -> Table | None:
    """The drafts that a guarded defender's verifier flagged and what it did with them,
    from the replies' metadata; None when no guarded defender flagged any."""
    sessions = r.tournament_sessions(store, tournament_id, statuses=("completed",))
    defender_of = {s.id: s.defender for s in sessions}
    table = Table(title="Caught by the guarded defender's verifier", title_justify="left")
    for column in ("session", "defender", "turn", "draft's findings", "then"):
        table.add_column(column, overflow="fold")
    for session_id, rows in r.session_messages(store, list(defender_of)).items():
        for row in rows:
            meta = row.meta if isinstance(row.meta, dict) else {}
            found = meta.get("draft_findings")
            if meta.get("defender") != "guarded" or not found or not isinstance(found, list):
                continue
            steps = meta.get("repair_steps") or []
            then = f"{meta.get('action')}" + (f" ({', '.join(map(str, steps))})" if steps else "")
            table.add_row(
                session_id,
                safe(defender_of[session_id]),
                str(row.turn),
                safe("; ".join(map(str, found))[:200]),
                safe(then),
            )
    return table if table.row_count else None
