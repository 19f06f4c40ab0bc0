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
