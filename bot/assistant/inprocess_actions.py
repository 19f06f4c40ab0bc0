"""Run rasa-sdk custom actions inside the agent's process.

Rasa calls custom actions through `EndpointConfig.request`. This subclass hands the call to
rasa-sdk's `ActionExecutor` directly: no second server to supervise, no port, no secret, and
no HTTP hop per action. Errors are mapped to what Rasa's `RemoteAction` expects from a real
action server (400 = rejection, 404 = unknown action).
"""
from __future__ import annotations

import json
from typing import Any

from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

ACTIONS_PACKAGE = "actions"


class InProcessActionEndpoint(EndpointConfig):
    def __init__(self, package: str = ACTIONS_PACKAGE) -> None:
        super().__init__(url=f"inprocess://{package}")
        self.package = package
        self.executor = ActionExecutor()
        self.executor.register_package(package)
        install_fast_result_validation()

    async def request(self, method: str = "post", subpath: str | None = None, **kwargs: Any) -> Any:
        action_call = kwargs.get("json") or {}
        try:
            return await self.executor.run(action_call)
        except ActionExecutionRejection as error:
            body = {"error": error.message, "action_name": error.action_name}
            raise ClientResponseError(400, "rejected", json.dumps(body)) from error
        except ActionNotFoundException as error:
            body = {"error": error.message, "action_name": error.action_name}
            raise ClientResponseError(404, "not found", json.dumps(body)) from error

    def copy(self) -> InProcessActionEndpoint:
        return self


def _cached_result_validator():
    """Rasa validates every action result with `jsonschema.validate`, which re-checks the
    schema itself against the 2020-12 meta-schema each call: measured at 60% of a turn's
    time. Same schema, same checks, but the validator is built once."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator = validator_for(schema)(schema)
    original = RemoteAction._validate_action_result

    def validate(self: RemoteAction, result: dict[str, Any]) -> bool:
        if not validator.is_valid(result):
            return original(self, result)  # the slow path only to raise Rasa's own error
        return True

    validate.cached = True
    return validate


def install_fast_result_validation() -> None:
    from rasa.core.actions.action import RemoteAction

    if not getattr(RemoteAction._validate_action_result, "cached", False):
        RemoteAction._validate_action_result = _cached_result_validator()
