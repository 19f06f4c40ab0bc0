"""Enrolling, changing and withdrawing a patient, and what other parts ask of an enrollment
(risk flags for triage context, the enrollment behind an SMS number, opt-out)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.core import audit_log
from api.core.audit_log import RequestContext
from api.core.time import as_utc, utcnow
from api.enrollments.models import CheckIn, Enrollment
from api.enrollments.schedule import due_times
from api.enrollments.schemas import EnrollmentIn, EnrollmentOut, EnrollmentPatch
from api.errors import ApiError
from api.settings import Settings


def enroll(
    session: Session, data: EnrollmentIn, source: str, settings: Settings, context: RequestContext
) -> tuple[Enrollment, bool]:
    """(enrollment, created). A known external_id returns the existing enrollment unchanged."""
    existing = _by_external_id(session, data.external_id)
    if existing is not None:
        return existing, False
    enrollment = Enrollment(
        external_id=data.external_id,
        source=source,
        patient_id=data.patient_id,
        procedure_at=data.procedure_at.astimezone(dt.timezone.utc),
        timezone=data.timezone,
        channels=sorted(set(data.channels)),
        phone_number=data.phone_number,
        language=data.language,
        site=data.site,
        risk_flags=sorted(set(data.risk_flags)),
    )
    try:
        with session.begin_nested():  # two callers racing on one external_id: one row, same answer
            session.add(enrollment)
            session.flush()
    except IntegrityError:
        winner = _by_external_id(session, data.external_id)
        if winner is None:
            raise
        return winner, False
    _schedule(session, enrollment, settings)
    audit_log.record(session, context, "enrollment.create", "enrollment", enrollment.id, "success")
    return enrollment, True


def update(
    session: Session, enrollment_id: str, patch: EnrollmentPatch, settings: Settings, context: RequestContext
) -> Enrollment:
    enrollment = get(session, enrollment_id)
    changes = patch.dict(exclude_unset=True)
    channels = changes.get("channels", enrollment.channels)
    phone = changes.get("phone_number", enrollment.phone_number)
    if "sms" in channels and not phone:
        raise ApiError(422, "phone_number (E.164) is required for the sms channel", "validation_error")
    for name, value in changes.items():
        if name == "procedure_at":
            value = value.astimezone(dt.timezone.utc)
        elif name in ("channels", "risk_flags"):
            value = sorted(set(value))
        setattr(enrollment, name, value)
    if {"procedure_at", "timezone"} & changes.keys():
        _schedule(session, enrollment, settings)
    audit_log.record(session, context, "enrollment.update", "enrollment", enrollment.id, "success")
    return enrollment


def withdraw(session: Session, enrollment_id: str, context: RequestContext) -> None:
    enrollment = get(session, enrollment_id)
    enrollment.status = "withdrawn"
    session.execute(
        sa.update(CheckIn)
        .where(CheckIn.enrollment_id == enrollment.id, CheckIn.status == "pending")
        .values(status="cancelled")
    )
    audit_log.record(session, context, "enrollment.withdraw", "enrollment", enrollment.id, "success")


def get(session: Session, enrollment_id: str) -> Enrollment:
    enrollment: Enrollment | None = session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise ApiError(404, "enrollment not found")
    return enrollment


def describe(session: Session, enrollment: Enrollment) -> EnrollmentOut:
    checkins = session.execute(
        sa.select(CheckIn).where(CheckIn.enrollment_id == enrollment.id).order_by(CheckIn.day_offset)
    ).scalars()
    return EnrollmentOut(
        enrollment_id=enrollment.id,
        external_id=enrollment.external_id,
        patient_id=enrollment.patient_id,
        status=enrollment.status,
        channels=enrollment.channels,
        risk_flags=enrollment.risk_flags,
        sms_opted_out=enrollment.sms_opted_out_at is not None,
        checkins=[{"day": c.day_offset, "due_at": as_utc(c.due_at).isoformat(), "status": c.status} for c in checkins],
    )


def risk_flags_for_patient(session: Session, patient_id: str) -> list[str]:
    """The union of the patient's active enrollments' risk flags: context for triage."""
    rows = session.execute(
        sa.select(Enrollment.risk_flags).where(Enrollment.patient_id == patient_id, Enrollment.status == "active")
    ).scalars()
    return sorted({flag for flags in rows for flag in flags})


def enrollment_for_phone(session: Session, phone_number: str) -> Enrollment | None:
    """The newest active enrollment with this SMS number (a patient may be enrolled again later)."""
    row: Enrollment | None = session.execute(
        sa.select(Enrollment)
        .where(Enrollment.phone_number == phone_number, Enrollment.status == "active")
        .order_by(Enrollment.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    return row


def set_sms_opt_out(session: Session, phone_number: str, opted_out: bool) -> int:
    """STOP / START: applies to every enrollment with the number at once (carriers require it)."""
    result = session.execute(
        sa.update(Enrollment)
        .where(Enrollment.phone_number == phone_number)
        .values(sms_opted_out_at=utcnow() if opted_out else None)
    )
    return int(result.rowcount)


def _by_external_id(session: Session, external_id: str) -> Enrollment | None:
    row: Enrollment | None = session.execute(
        sa.select(Enrollment).where(Enrollment.external_id == external_id)
    ).scalar_one_or_none()
    return row


def _schedule(session: Session, enrollment: Enrollment, settings: Settings) -> None:
    """Creates the check-ins, or moves those not yet sent after a change of time or timezone."""
    due = due_times(enrollment.procedure_at, enrollment.timezone, settings)
    existing = {
        c.day_offset: c
        for c in session.execute(sa.select(CheckIn).where(CheckIn.enrollment_id == enrollment.id)).scalars()
    }
    for day, at in due.items():
        checkin = existing.get(day)
        if checkin is None:
            session.add(CheckIn(enrollment_id=enrollment.id, day_offset=day, due_at=at, status="pending"))
        elif checkin.status == "pending":
            checkin.due_at = at
    session.flush()
