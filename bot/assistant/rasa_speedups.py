"""Two hot spots in Rasa 3.6 that cost more than the model, fixed without changing behaviour.

Both were found by profiling a turn (pyinstrument, `python -m aftercare_tools.benchmark.profile`). Each
patch is installed once, keeps Rasa's own results and errors, and is marked so that loading a
second agent does not wrap it again.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    _install_fast_result_validation()
    _install_event_type_cache()


def _install_fast_result_validation() -> None:
    """Rasa validates every action result with `jsonschema.validate`, which re-checks the
    schema itself against the 2020-12 meta-schema each call: measured at 60% of a turn's
    time. Same schema, same checks, but the validator is built once."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    original = RemoteAction._validate_action_result
    if getattr(original, "patched_by_aftercare", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator = validator_for(schema)(schema)

    def validate(self: RemoteAction, result: dict[str, Any]) -> bool:
        if not validator.is_valid(result):
            return original(self, result)  # the slow path only to raise Rasa's own error
        return True

    validate.__dict__["patched_by_aftercare"] = True
    RemoteAction._validate_action_result = validate


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
