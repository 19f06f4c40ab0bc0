"""Rasa NLU component that puts the deterministic detector above the statistical model.

It runs last in the pipeline: when the detector sees a reported warning sign, the intent
becomes `report_warning_sign` (which the rules route to the triage action) whatever DIET or
the FallbackClassifier decided. It never lowers an intent DIET chose: if either sees a
report, the patient is triaged.

The detector runs once per message: the API detects before asking the assistant and sends
the detection along in the message metadata. Only a message that came without one (rasa
shell, `rasa test`, training) is detected here. Either way the detection goes on in the
parse data, where the triage action reads it.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    METADATA,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.content.clinic import get_clinic
from bot.triage import Tier
from bot.triage.conversation import ASSESSMENT_KEY, Disposition
from bot.triage.detector import carried_or_detect
from bot.triage.model import DETECTION_KEY, carried_in

REPORT_INTENT = "report_warning_sign"
SIGN_ENTITY = "warning_sign"
# Intents that say the model could not place an elliptical answer ("yes", "worse", "2 hours"):
# when the conversation's triage has a disposition, that answer goes to the triage action.
UNPLACED_INTENTS = frozenset({"nlu_fallback", "out_of_scope", "inform_temperature", REPORT_INTENT})


def _conversation_triage(message: Message) -> bool:
    """The conversation (not this message alone) calls for triage: the API's assessment has a
    call or emergency disposition, or a self-care one for an answer the model could not place."""
    metadata = message.get(METADATA)
    data = metadata.get(ASSESSMENT_KEY) if isinstance(metadata, dict) else None
    disposition = data.get("disposition") if isinstance(data, dict) else None
    if disposition is None:
        return False
    if disposition != Disposition.SELF_CARE.value:
        return True
    intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
    return intent in UNPLACED_INTENTS


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class WarningSignRouter(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [IntentClassifier]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> WarningSignRouter:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        threshold = get_clinic().fever_threshold_c
        for message in messages:
            carried = carried_in(message.get(METADATA))
            detection = carried_or_detect(carried, message.get(TEXT) or "", threshold)
            message.set(DETECTION_KEY, detection.to_dict(), add_to_output=True)
            if detection.tier is Tier.NONE and not _conversation_triage(message):
                continue
            route = {INTENT_NAME_KEY: REPORT_INTENT, PREDICTED_CONFIDENCE_KEY: 1.0}
            message.set(INTENT, route, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != REPORT_INTENT]
            message.set(INTENT_RANKING_KEY, [route, *ranking], add_to_output=True)
            entities = list(message.get(ENTITIES) or [])
            entities += [
                {
                    "entity": SIGN_ENTITY,
                    "value": finding.sign,
                    "start": finding.start,
                    "end": finding.end,
                    "confidence_entity": 1.0,
                    "extractor": type(self).__name__,
                }
                for finding in detection.reported
            ]
            message.set(ENTITIES, entities, add_to_output=True)
        return messages
