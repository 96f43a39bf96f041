"""The guarded defender's own cost per reply, and the local model's speed.

1. Guard overhead: the guarded defender's work around the model (intent check, static
   analysis of the draft, repair) per reply, on the labelled corpus's snippets served as
   drafts by an instant in-process fake model (the model's time is not what is measured
   here), with regenerations off so a flagged draft is repaired. CPU ms per reply,
   median of 5 passes, for clean drafts and for flagged ones.
2. Local model: generation tokens/s of Gemma 3 270M through llama.cpp (the [local]
   extra), median of 3, when the extra is installed.

    .venv/bin/python benchmarks/defender_bench.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from adversarial_arena.bots.reference import GuardedDefender
from adversarial_arena.bots.reference.verifier import verify
from adversarial_arena.testing import make_turn

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "evaluation" / "corpus"
ASK = [{"role": "user", "content": "Write the function we talked about, complete."}]
PASSES = 5


class InstantModel:
    """A fake model that answers the next scripted draft at once (not a real model)."""

    name = "instant"

    def __init__(self) -> None:
        self.draft = ""

    async def generate(self, messages: Any, **_: Any) -> str:
        return self.draft

    async def aclose(self) -> None:
        return None


def drafts() -> list[str]:
    labels = [json.loads(line) for line in (CORPUS / "labels.jsonl").read_text().splitlines()]
    return [
        "Here is the code:\n```python\n"
        + (CORPUS / "snippets" / f"{entry['id']}.txt").read_text()
        + "\n```\nAsk if you need more."
        for entry in labels
    ]


async def guard_cost() -> dict[str, tuple[int, float]]:
    """{"clean" | "flagged": (drafts, median CPU ms per reply)}."""
    model = InstantModel()
    guard = GuardedDefender(model, regenerations=0)
    texts = drafts()
    kinds = {text: "clean" if verify(text).clean else "flagged" for text in texts}
    per_pass: dict[str, list[float]] = {"clean": [], "flagged": []}
    for _ in range(PASSES):
        spent = {"clean": 0.0, "flagged": 0.0}
        for text in texts:
            model.draft = text
            started = time.process_time()
            await guard(list(ASK), make_turn(ASK))
            spent[kinds[text]] += time.process_time() - started
        for kind, seconds in spent.items():
            count = sum(1 for k in kinds.values() if k == kind)
            per_pass[kind].append(1000 * seconds / count)
    return {
        kind: (sum(1 for k in kinds.values() if k == kind), statistics.median(values))
        for kind, values in per_pass.items()
    }


async def local_model_speed() -> tuple[float, int] | None:
    """(median tokens/s, tokens per run), or None without the [local] extra."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return None
    from adversarial_arena.models import LocalModel

    model = LocalModel()
    model.load()
    counting = [{"role": "user", "content": "Print the numbers from 1 to 1000, one per line."}]
    rates: list[float] = []
    tokens = 0
    for _ in range(3):
        started = time.perf_counter()
        text = await model.generate(counting, prefix="1\n2\n3\n", max_tokens=150)
        elapsed = time.perf_counter() - started
        tokens = model.count_tokens(text.removeprefix("1\n2\n3\n"))
        rates.append(tokens / elapsed)
    return statistics.median(rates), tokens


def main(_: list[str] | None = None) -> None:
    cost = asyncio.run(guard_cost())
    for kind, (count, ms) in cost.items():
        print(f"guard overhead, {kind} drafts ({count}): {ms:.2f} CPU ms per reply (median)")
    speed = asyncio.run(local_model_speed())
    if speed is None:
        print("local model: the [local] extra is not installed")
    else:
        rate, tokens = speed
        print(f"local model (Gemma 3 270M, llama.cpp): {rate:.1f} tokens/s ({tokens} tokens)")


if __name__ == "__main__":
    main()
