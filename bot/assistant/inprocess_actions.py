"""Run rasa-sdk custom actions inside the agent's process.

Rasa calls custom actions through `EndpointConfig.request`. This subclass hands the call to
rasa-sdk's `ActionExecutor` directly: no second server to supervise, no port, no secret, and
no HTTP hop per action. Errors are mapped to what Rasa's `RemoteAction` expects from a real
action server (400 = rejection, 404 = unknown action).
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
from typing import Any

from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from rasa_sdk import Action
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from rasa_sdk.utils import all_subclasses

from bot.content import ClinicSettings

ACTIONS_PACKAGE = "actions"


class InProcessActionEndpoint(EndpointConfig):
    """`clinic`: the settings every action answers with (the service passes its own); without
    it the actions read AFTERCARE_* themselves, as a standalone action server would."""

    def __init__(self, clinic: ClinicSettings | None = None, package: str = ACTIONS_PACKAGE) -> None:
        super().__init__(url=f"inprocess://{package}")
        self.package = package
        self.executor = ActionExecutor()
        if clinic is None:
            self.executor.register_package(package)
        else:
            for action in _actions_in(package):
                self.executor.register_action(action(clinic))

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


def _actions_in(package: str) -> list[type[Action]]:
    """The concrete Action classes defined in `package` and its modules."""
    root = importlib.import_module(package)
    for module in pkgutil.walk_packages(root.__path__, f"{package}."):
        importlib.import_module(module.name)
    return [
        cls
        for cls in all_subclasses(Action)
        if cls.__module__.startswith(f"{package}.") and not inspect.isabstract(cls)
    ]
