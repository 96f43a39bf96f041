"""`python -m adversarial_arena` is the `arena` command."""

from adversarial_arena.cli import main

main()
