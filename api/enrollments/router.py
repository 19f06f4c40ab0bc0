"""Enrollment API for the clinic's integration engine (service token, SVC-1), and the staff
"no response" list of check-ins."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from api.core.audit_log import record, request_context
from api.core.time import utcnow
from api.deps import AppSettings, Ctx, DbSession, PatientId
from api.enrollments import checkins, service
from api.enrollments.auth import ServiceCaller
from api.enrollments.fhir import questionnaire_response
from api.enrollments.schemas import (
    EnrollmentIn,
    EnrollmentOut,
    EnrollmentPatch,
    UnansweredList,
    WaitingCheckIns,
)
from api.errors import ApiError
from api.staff.deps import CurrentStaff

router = APIRouter(tags=["enrollment"])


@router.post("/api/v1/enrollments", status_code=status.HTTP_201_CREATED, response_model=EnrollmentOut)
def create_enrollment(
    body: EnrollmentIn,
    request: Request,
    response: Response,
    db: DbSession,
    settings: AppSettings,
    caller: ServiceCaller,
) -> EnrollmentOut:
    """Enroll a patient at discharge: 201 the first time, 200 with the same id for a known external_id."""
    context = request_context(request, actor_id=caller, actor_role="service")
    enrollment, created = service.enroll(db, body, caller, settings, context)
    if not created:
        response.status_code = status.HTTP_200_OK
    return service.describe(db, enrollment)


@router.get("/api/v1/enrollments/{enrollment_id}", response_model=EnrollmentOut)
def read_enrollment(enrollment_id: str, db: DbSession, caller: ServiceCaller) -> EnrollmentOut:
    return service.describe(db, service.get(db, enrollment_id))


@router.patch("/api/v1/enrollments/{enrollment_id}", response_model=EnrollmentOut)
def change_enrollment(
    enrollment_id: str,
    body: EnrollmentPatch,
    request: Request,
    db: DbSession,
    settings: AppSettings,
    caller: ServiceCaller,
) -> EnrollmentOut:
    """Change channels, number, flags or the procedure time (unsent check-ins move with it)."""
    context = request_context(request, actor_id=caller, actor_role="service")
    return service.describe(db, service.update(db, enrollment_id, body, settings, context))


@router.delete("/api/v1/enrollments/{enrollment_id}", status_code=status.HTTP_204_NO_CONTENT)
def withdraw_enrollment(enrollment_id: str, request: Request, db: DbSession, caller: ServiceCaller) -> Response:
    """Withdraw: nothing more is sent; what was sent and answered stays on record."""
    service.withdraw(db, enrollment_id, request_context(request, actor_id=caller, actor_role="service"))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/checkins/unanswered", response_model=UnansweredList, tags=["staff"])
def unanswered_checkins(db: DbSession, ctx: Ctx, staff: CurrentStaff) -> UnansweredList:
    """Check-ins sent longer ago than AFTERCARE_CHECKIN_NO_RESPONSE_HOURS without an answer."""
    return UnansweredList(checkins=checkins.unanswered(db, ctx.settings, ctx.detector, utcnow()))


@router.get(
    "/api/v1/checkins/{checkin_id}/questionnaire-response",
    tags=["staff"],
    responses={200: {"content": {"application/fhir+json": {}}}},
)
def checkin_questionnaire_response(
    checkin_id: str, request: Request, db: DbSession, ctx: Ctx, staff: CurrentStaff
) -> JSONResponse:
    """An answered check-in as a FHIR R4 QuestionnaireResponse (404 until it is answered)."""
    checkins.collect_portal_answers(db, ctx.detector)
    found = checkins.answered_checkin(db, checkin_id)
    if found is None:
        raise ApiError(404, "no answered check-in with this id")
    record(db, request_context(request, staff.id, staff.role), "checkin.export", "checkin", checkin_id, "success")
    return JSONResponse(questionnaire_response(*found), media_type="application/fhir+json")


@router.get("/api/v1/checkins/waiting", response_model=WaitingCheckIns, tags=["patient"])
def waiting_checkins(db: DbSession, patient_id: PatientId) -> WaitingCheckIns:
    """The token's patient's portal check-ins still waiting for an answer, newest first: the
    widget shows a badge and opens the conversation the check-in is in."""
    return WaitingCheckIns(checkins=checkins.waiting_for(db, patient_id))
