"""Evaluation of conversations: code extraction, analyzers, judges, annotation,
agreement (SPEC §3)."""
