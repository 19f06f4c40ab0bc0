"""The Rasa speed-ups keep Rasa's results and errors."""

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

from bot.assistant import rasa_speedups


@pytest.fixture(scope="module", autouse=True)
def _installed():
    rasa_speedups.install()


def test_cached_result_validation_still_rejects_malformed_results():
    action = RemoteAction("action_answer_topic", None)
    assert action._validate_action_result({"events": [], "responses": []})
    with pytest.raises(jsonschema.ValidationError):
        action._validate_action_result({"events": [{"event": "no_such_event"}], "responses": "not a list"})


RESULTS = [
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "disposition", "value": "call_now", "timestamp": None},
            {"event": "action", "name": "action_listen"},
            {"event": "bot", "text": "Call us now", "data": {"custom": {"tier": "call_provider"}}},
        ],
        "responses": [{"text": "Call us now", "buttons": [], "custom": {"kind": "triage"}}],
    },
    {"events": [{"event": "slot", "name": "disposition"}], "responses": []},  # a slot needs a value
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": [{"name": "topic"}], "responses": []},  # no event name
    {"events": [{"event": 3, "name": "x", "value": 1}], "responses": []},
    {"events": ["slot"], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": "not a list"},
    {"responses": []},
]


@pytest.mark.parametrize("result", RESULTS)
def test_checking_events_by_name_agrees_with_the_whole_schema(result):
    schema = RemoteAction.action_response_format_spec()
    accepts = rasa_speedups._by_event_name(schema)
    assert accepts is not None, "Rasa's schema changed shape: the fast check is off"
    assert accepts(result) == jsonschema.validators.validator_for(schema)(schema).is_valid(result)


def test_the_rows_above_include_rejected_results():
    schema = RemoteAction.action_response_format_spec()
    verdicts = [jsonschema.validators.validator_for(schema)(schema).is_valid(r) for r in RESULTS]
    assert True in verdicts and verdicts.count(False) >= 5


@pytest.mark.parametrize("event_class", [UserUttered, ActionExecuted, SlotSet])
def test_event_types_resolve_to_rasa_classes_every_time(event_class):
    assert Event.resolve_by_type(event_class.type_name) is event_class
    assert Event.resolve_by_type(event_class.type_name) is event_class  # from the cache


def test_unknown_event_types_keep_rasa_behaviour():
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no_such_event")


def test_events_read_back_from_dicts_are_equal():
    events = [UserUttered("hello", {"name": "greet", "confidence": 1.0}), ActionExecuted("utter_greet")]
    assert [Event.from_parameters(e.as_dict()) for e in events] == events


def test_installing_again_keeps_the_same_patches():
    before = (Event.resolve_by_type, RemoteAction._validate_action_result)
    rasa_speedups.install()
    assert (Event.resolve_by_type, RemoteAction._validate_action_result) == before
    assert all(getattr(patch, "patched_by_aftercare", False) for patch in before)
