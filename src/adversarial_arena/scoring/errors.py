"""The one error scoring raises: inputs that cannot be scored as given.

    ArenaError (core.errors)
     └── ScoringError      also a ValueError: the inputs, not the arena, are at fault

Its message names what is wrong (a suite without a base score, a negative weight …)
so the user can fix the inputs.
"""

from __future__ import annotations

from adversarial_arena.core.errors import ArenaError


class ScoringError(ArenaError, ValueError):
    """Scores cannot be computed from these inputs; the message says which and why."""
