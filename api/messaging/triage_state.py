"""The conversation's triage state between messages: loaded under the conversation's lock,
seeded with the enrolled patient's risk flags, saved in the turn's own transaction.

A state that cannot be read (a bad row, a database error) is a fresh one: the turn is then
judged on this message and the enrollment's flags, as before conversations were tracked.
"""

from __future__ import annotations

import json
import logging

from sqlalchemy.orm import Session

from api.conversations import repository
from api.enrollments.service import risk_flags_for_patient
from bot.triage.conversation import ConversationState

log = logging.getLogger("aftercare.messaging")

# Enrollment risk flag (api.enrollments.schemas.RiskFlag) -> the triage's risk factor name.
RISK_FACTOR_FOR_FLAG = {
    "anticoagulant": "blood_thinner",
    "chemotherapy": "chemotherapy",
    "low_platelets": "low_platelets",
    "child": "child",
}


def load_state(session: Session, conversation_id: str, patient_id: str | None = None) -> ConversationState:
    """Never raises: an unreadable state is logged (its error type only) and starts afresh.
    `patient_id`: the conversation's patient if the caller has it (saves a query)."""
    try:
        stored = repository.get_triage_state(session, conversation_id)
        state = ConversationState.empty() if stored is None else ConversationState.from_dict(json.loads(stored))
    except Exception as error:  # bad JSON, an old shape, the database: judge this message alone
        log.error("triage state unreadable; starting afresh", extra={"error_type": type(error).__name__})
        session.rollback()
        state = ConversationState.empty()
    try:
        flags = _enrolled_risk_factors(session, conversation_id, patient_id)
    except Exception as error:  # the flags raise urgency; without them the message still decides
        log.error("enrollment risk flags unreadable", extra={"error_type": type(error).__name__})
        session.rollback()
        flags = []
    missing = [f for f in flags if f not in state.risk_factors]
    if missing:
        state.risk_factors = [*state.risk_factors, *missing]
    return state


def _enrolled_risk_factors(session: Session, conversation_id: str, patient_id: str | None) -> list[str]:
    patient_id = patient_id or repository.patient_of(session, conversation_id)
    if patient_id is None:
        return []
    flags = risk_flags_for_patient(session, patient_id)
    return [RISK_FACTOR_FOR_FLAG[f] for f in flags if f in RISK_FACTOR_FOR_FLAG]


def save_state(session: Session, conversation_id: str, state: ConversationState) -> None:
    repository.save_triage_state(
        session, conversation_id, json.dumps(state.to_dict(), sort_keys=True), state.pending_question
    )
