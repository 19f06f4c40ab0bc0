"""A check-in's structured answer as a FHIR R4 QuestionnaireResponse (JSON).

Only the structured answer goes out: the patient's own words stay in the transcript, so the
"anything else" question has no item here. The Questionnaire is this service's check-in
(api.enrollments.questions.QUESTIONS), named by a canonical URL of our own."""

from __future__ import annotations

from typing import Any

from api.core.time import as_utc
from api.enrollments.models import CheckIn, Enrollment
from api.enrollments.questions import QUESTIONS

QUESTIONNAIRE_URL = "urn:marrow-aftercare:questionnaire:post-biopsy-checkin"
PATIENT_ID_SYSTEM = "urn:marrow-aftercare:patient-id"
PAIN_SYSTEM = "urn:marrow-aftercare:pain-trend"
UCUM = "http://unitsofmeasure.org"


def questionnaire_response(checkin: CheckIn, enrollment: Enrollment) -> dict[str, Any]:
    """Status `completed` for an answered check-in; callers export only those."""
    answer = checkin.response or {}
    items = [
        _item("bleeding", QUESTIONS[0], {"valueBoolean": bool(answer.get("bleeding"))}),
        _item("redness-or-swelling", QUESTIONS[1], {"valueBoolean": bool(answer.get("redness_or_swelling"))}),
    ]
    if answer.get("pain"):
        coding = {"system": PAIN_SYSTEM, "code": answer["pain"], "display": answer["pain"]}
        items.append(_item("pain", QUESTIONS[2], {"valueCoding": coding}))
    fever = _item("fever", QUESTIONS[3], {"valueBoolean": bool(answer.get("fever"))})
    if answer.get("temperature_c") is not None:
        temperature = {"value": answer["temperature_c"], "unit": "°C", "system": UCUM, "code": "Cel"}
        # A question's follow-up nests under its answer (QuestionnaireResponse.item.answer.item).
        fever["answer"][0]["item"] = [_item("temperature", "Temperature", {"valueQuantity": temperature})]
    items.append(fever)
    return {
        "resourceType": "QuestionnaireResponse",
        "id": checkin.id,
        "identifier": {"system": "urn:marrow-aftercare:checkin", "value": checkin.id},
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "subject": {"identifier": {"system": PATIENT_ID_SYSTEM, "value": enrollment.patient_id}},
        "authored": as_utc(checkin.answered_at).isoformat() if checkin.answered_at else None,
        "item": items,
    }


def _item(link_id: str, text: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"linkId": link_id, "text": text, "answer": [value]}
