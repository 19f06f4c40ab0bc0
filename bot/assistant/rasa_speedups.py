"""Two hot spots in Rasa 3.6 that cost more than the model, fixed without changing behaviour.

Both were found by profiling a turn (pyinstrument, `python -m aftercare_tools.benchmark.profile`). Each
patch is installed once, keeps Rasa's own results and errors, and is marked so that loading a
second agent does not wrap it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def install() -> None:
    _install_fast_result_validation()
    _install_event_type_cache()


def _install_fast_result_validation() -> None:
    """Rasa validates every action result with `jsonschema.validate`, which re-checks the
    schema itself against the 2020-12 meta-schema each call: measured at 60% of a turn's
    time. Same schema, same checks, but the validator is built once. And each event is checked
    against the one `oneOf` alternative its "event" name selects, not all 23 (a millisecond
    per result, ~3% of a turn): see _by_event_name for why the verdict is the same."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "patched_by_aftercare", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator = validator_for(schema)(schema)
    fast = _by_event_name(schema)

    def validate(self: RemoteAction, result: dict[str, Any]) -> bool:
        if fast is not None and fast(result):
            return True
        if not validator.is_valid(result):
            return original(self, result)  # the slow path only to raise Rasa's own error
        return True

    validate.__dict__["patched_by_aftercare"] = True
    RemoteAction._validate_action_result = validate


def _by_event_name(schema: dict[str, Any]) -> Callable[[Any], bool] | None:
    """A check that says True only for results the whole schema accepts. Every event must have
    a string "event" and every `oneOf` alternative fixes it to its own constant, so exactly one
    alternative can hold: the one named by the event, checked together with the common part.
    None if Rasa's schema is not shaped so (another Rasa version): the whole schema then."""
    import copy

    from jsonschema.validators import validator_for

    cls = validator_for(schema)
    try:
        items = schema["properties"]["events"]["items"]
        common = {key: value for key, value in items.items() if key != "oneOf"}
        names = [alternative["properties"]["event"]["const"] for alternative in items["oneOf"]]
        shaped = "event" in items["required"] and common["properties"]["event"] == {"type": "string"}
    except (KeyError, TypeError):
        return None
    if not shaped or len(set(names)) != len(names):
        return None
    by_name = {
        name: cls({"allOf": [common, alternative]}) for name, alternative in zip(names, items["oneOf"], strict=True)
    }
    outer_schema = copy.deepcopy(schema)
    outer_schema["properties"]["events"]["items"] = {}  # the events one by one, below
    outer = cls(outer_schema)

    def accepts(result: Any) -> bool:
        if not outer.is_valid(result):
            return False
        for event in result.get("events") or ():
            check = by_name.get(event.get("event")) if isinstance(event, dict) else None
            if check is None or not check.is_valid(event):
                return False
        return True

    return accepts


def _install_event_type_cache() -> None:
    """`Event.resolve_by_type` walks every Event subclass (recursively, with an `isabstract`
    check each) for every event it deserialises: a tracker of a few dozen events read back
    from the store paid for thousands of class checks. Found types are remembered; unknown
    names still go to Rasa (its default, its `topic` special case, its error)."""
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    if getattr(original, "patched_by_aftercare", False):
        return
    found: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        cls = found.get(type_name)
        if cls is None:
            cls = original(type_name, default)
            if cls is not None and cls is not default:
                found[type_name] = cls
        return cls

    resolve_by_type.__dict__["patched_by_aftercare"] = True
    Event.resolve_by_type = staticmethod(resolve_by_type)
