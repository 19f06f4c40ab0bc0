"""The operations report page and its CSV (admin role only, AC-3; both reads audited)."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.core.audit_log import record, request_context
from api.deps import AppSettings, DbSession
from api.reports import service
from api.reports.chart import cases_chart
from api.staff.console import TIER_LABELS, PageStaff, admin_refusal, page, to_login

router = APIRouter(prefix="/staff/admin", include_in_schema=False)
CSV_FIELDS = (
    "week",
    "tier",
    "cases",
    "ack_p50_min",
    "ack_p90_min",
    "resolve_p50_min",
    "resolve_p90_min",
    "overdue_share",
    "target_min",
    "callback_requests",
    "conversations",
    "answered_without_case_share",
)


def duration(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    if minutes < 60:
        return f"{minutes:.1f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60)} min"


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


@router.get("/report")
def report_page(request: Request, db: DbSession, settings: AppSettings, staff: PageStaff, weeks: int = 12) -> Response:
    refusal = admin_refusal(request, db, settings, staff)
    if refusal is not None or staff is None:
        return refusal or to_login(request)
    record(db, request_context(request, staff.id, staff.role), "report.view", "report", None, "success")
    report = service.build(db, settings, weeks)
    return page(
        request,
        settings,
        "report.html",
        staff,
        report=report,
        chart=cases_chart(report, TIER_LABELS),
        weeks=len(report.weeks),
        duration=duration,
        share=share,
        tiers=service.TIERS,
    )


@router.get("/report.csv")
def report_csv(request: Request, db: DbSession, settings: AppSettings, staff: PageStaff, weeks: int = 12) -> Response:
    refusal = admin_refusal(request, db, settings, staff)
    if refusal is not None or staff is None:
        return refusal or to_login(request)
    record(db, request_context(request, staff.id, staff.role), "report.export", "report", None, "success")
    report = service.build(db, settings, weeks)
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS)
    writer.writeheader()
    for week in report.weeks:
        for r in (r for r in report.rows if r.week == week.week):
            writer.writerow(
                {
                    "week": r.week,
                    "tier": r.tier,
                    "cases": r.cases,
                    "ack_p50_min": _number(r.ack_p50),
                    "ack_p90_min": _number(r.ack_p90),
                    "resolve_p50_min": _number(r.resolve_p50),
                    "resolve_p90_min": _number(r.resolve_p90),
                    "overdue_share": _number(r.overdue_share),
                    "target_min": report.targets[r.tier],
                }
            )
        writer.writerow(
            {
                "week": week.week,
                "tier": "all",
                "cases": week.cases,
                "callback_requests": week.callback_requests,
                "conversations": week.conversations,
                "answered_without_case_share": _number(week.without_case_share),
            }
        )
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="operations-report.csv"'},
    )
