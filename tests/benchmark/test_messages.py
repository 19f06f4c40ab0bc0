"""The message mix and the deterministic scripts built from it."""

from __future__ import annotations

from aftercare_tools.benchmark import messages


def test_mix_has_about_forty_distinct_messages():
    assert 35 <= len(messages.MESSAGES) <= 45
    assert len(set(messages.MESSAGES)) == len(messages.MESSAGES)
    assert messages.WARNING_REPORTS and messages.OUT_OF_SCOPE and messages.GREETINGS


def test_scripts_are_deterministic_and_shaped():
    first = messages.conversations(30, 8, salt="sequential")
    assert first == messages.conversations(30, 8, salt="sequential")
    assert first != messages.conversations(30, 8, salt="concurrent_8")
    assert len(first) == 30
    for script in first:
        assert len(script) == 8
        assert len(set(script)) == 8
        assert script[0] in messages.GREETINGS
        assert script[-1] in messages.CLOSINGS


def test_short_scripts():
    assert [len(s) for s in messages.conversations(3, 1)] == [1, 1, 1]
    assert all(len(s) == 2 for s in messages.conversations(3, 2))


def test_long_conversation_covers_the_mix():
    script = messages.long_conversation(200)
    assert len(script) == 200
    assert script == messages.long_conversation(200)
    assert set(script) == set(messages.MESSAGES)
