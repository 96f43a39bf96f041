"""`arena init` and `arena demo`: the example project and the offline demo."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from adversarial_arena.config import TournamentConfig
from adversarial_arena.core.errors import ArenaError
from adversarial_arena.store import Store

TEMPLATES = ("arena.yaml", "example_attacker.py", "example_defender.py")


def write_example_project(directory: Path) -> list[Path]:
    """Copy the templates into `directory`; never overwrite a user's file."""
    targets = [directory / name for name in TEMPLATES]
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        raise ArenaError(
            f"{', '.join(existing)} already exist; `arena init` writes nothing "
            "over your files — choose another directory"
        )
    directory.mkdir(parents=True, exist_ok=True)
    source = resources.files("adversarial_arena.templates")
    for name, target in zip(TEMPLATES, targets, strict=True):
        target.write_text(source.joinpath(name).read_text(encoding="utf-8"), encoding="utf-8")
    return targets


@contextlib.contextmanager
def serve_example_bots() -> Iterator[dict[str, str]]:
    """Serve the example attacker and defender with the SDK on loopback ports."""
    from adversarial_arena.sdk import make_app
    from adversarial_arena.templates import example_attacker, example_defender
    from adversarial_arena.testing import serve_in_thread

    with (
        serve_in_thread(
            make_app(example_attacker.attack, name="example-attacker", role="attacker")
        ) as attacker_url,
        serve_in_thread(
            make_app(example_defender.defend, name="example-defender", role="defender")
        ) as defender_url,
    ):
        yield {"example-attacker": attacker_url + "/", "example-defender": defender_url + "/"}


def demo_config(urls: dict[str, str], conversations: int, store: Store) -> TournamentConfig:
    taken = {row.name for row in store.list_tournaments()}
    number = 1
    while f"demo-{number}" in taken:
        number += 1
    return TournamentConfig.model_validate(
        {
            "name": f"demo-{number}",
            "mode": "practice",
            "conversations_per_pair": conversations,
            "max_turn_pairs": 4,
            "batch_size": 5,
            "seed": 7,
            "attackers": [
                {
                    "name": "example-attacker",
                    "kind": "http",
                    "url": urls["example-attacker"],
                    "max_concurrency": 4,
                }
            ],
            "defenders": [
                {
                    "name": "example-defender",
                    "kind": "http",
                    "url": urls["example-defender"],
                    "max_concurrency": 4,
                }
            ],
        }
    )
