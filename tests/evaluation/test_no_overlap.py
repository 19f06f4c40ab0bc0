"""No evaluation message appears in the training data or the detector's tables.

The held-out set measures how the assistant generalises; a message the model was trained on,
or one the rules were fixed to pass, only measures memory. Compared after normalising case,
punctuation, spacing and Rasa's entity markup, so "Is this normal?" and "is this normal" clash.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from aftercare_tools.evaluation.conversations import load_conversations
from aftercare_tools.evaluation.dataset import load_eval_set, normalise_text

REPO = Path(__file__).resolve().parents[2]
ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")  # [38.6](temperature) -> 38.6
RULE_LISTS = ("phrases", "exclude", "idioms")  # lists of whole phrases in warning_signs.yml


def normalise(text: str) -> str:
    return normalise_text(ENTITY_MARKUP.sub(r"\1", text))


def _yaml(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _walk(node, key=None):
    """Every (key, value) pair in a YAML document, depth first."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _walk(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, key)


def _training_texts() -> dict[str, str]:
    """Normalised text -> where it comes from, for every message the model or the rules know."""
    found: dict[str, str] = {}

    def add(text: str, where: str) -> None:
        key = normalise(text)
        if key:
            found.setdefault(key, where)

    for path in sorted((REPO / "data").rglob("*.yml")):
        for key, value in _walk(_yaml(path)):
            if key == "examples" and isinstance(value, str):
                for line in value.splitlines():
                    if line.strip().startswith("- "):
                        add(line.strip()[2:], path.relative_to(REPO).as_posix())
            elif key == "user" and isinstance(value, str):
                add(value, path.relative_to(REPO).as_posix())
    for key, value in _walk(_yaml(REPO / "tests" / "test_stories.yml")):
        if key == "user" and isinstance(value, str):
            add(value, "tests/test_stories.yml")
    for row in _yaml(REPO / "tests" / "triage" / "detector_cases.yml"):
        add(row["text"], "tests/triage/detector_cases.yml")
    for key, value in _walk(_yaml(REPO / "bot" / "triage" / "warning_signs.yml")):
        if key in RULE_LISTS and isinstance(value, list):
            for phrase in value:
                if isinstance(phrase, str):
                    add(phrase, f"bot/triage/warning_signs.yml ({key})")
    return found


def test_normalise_ignores_case_punctuation_spacing_and_entity_markup():
    assert normalise("It's  [38.6](temperature) , OK?") == normalise("its 38.6 ok")
    assert normalise('[hip]{"entity": "site"} hurts') == "hip hurts"
    assert normalise("bleeding") != normalise("bleeding a lot")


def test_training_sources_are_read():
    """Guards the test itself: if a source moved, the overlap check would pass on nothing."""
    origins = set(_training_texts().values())
    for expected in ("data/nlu/", "tests/test_stories.yml", "detector_cases.yml", "warning_signs.yml"):
        assert any(expected in origin for origin in origins), expected


def test_no_evaluation_message_is_in_the_training_data_or_rule_tables():
    known = _training_texts()
    overlaps = [
        f"  [{case.id}] {case.text!r}  (also in {known[normalise(case.text)]})"
        for case in load_eval_set()
        if normalise(case.text) in known
    ]
    assert not overlaps, (
        f"{len(overlaps)} evaluation messages also appear in the training data or rule tables; "
        "replace them in eval_set.yml with freshly written ones (never edit the training data "
        "to pass):\n" + "\n".join(overlaps)
    )


def test_no_conversation_turn_is_in_the_training_data_rule_tables_or_single_message_set():
    """conversations.yml too: its turns, elliptical answers included, are written fresh."""
    known = _training_texts()
    for case in load_eval_set():
        known.setdefault(normalise(case.text), f"eval_set.yml ({case.id})")
    overlaps = [
        f"  [{conversation.id} turn {number}] {turn.text!r}  (also in {known[normalise(turn.text)]})"
        for conversation in load_conversations()
        for number, turn in enumerate(conversation.turns, start=1)
        if normalise(turn.text) in known
    ]
    assert not overlaps, (
        f"{len(overlaps)} conversation turns also appear in the training data, rule tables or "
        "eval_set.yml; rewrite them in conversations.yml:\n" + "\n".join(overlaps)
    )
