"""Triage evaluation: a held-out message set run through the full assistant (`aftercare eval`).

Modules: `dataset` (the labelled set in eval_set.yml), `runner` (the in-process run),
`metrics` (recall, over-triage, topic accuracy, the gate), `report` (eval.md, eval.json,
eval_confusion.png), `crossval` (optional Rasa NLU cross-validation), `cli` (the subcommand).
Importing this package is cheap: Rasa loads only when an evaluation runs.
"""
