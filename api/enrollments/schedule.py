"""When check-ins are due: pure functions of the procedure time, the patient's timezone and the
clinic's settings, so they are tested with a controlled clock.

Day N is the calendar day N days after the procedure *in the patient's timezone*, at the
clinic's local check-in time; zoneinfo gives the right UTC instant on either side of a DST
change (10:00 stays 10:00 local, the UTC offset moves)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from api.settings import Settings, in_window


def due_times(procedure_at: dt.datetime, timezone: str, settings: Settings) -> dict[int, dt.datetime]:
    """{day offset: due instant in UTC}."""
    zone = ZoneInfo(timezone)
    local_day = procedure_at.astimezone(zone).date()
    at = dt.time.fromisoformat(settings.checkin_local_time)
    return {
        day: dt.datetime.combine(local_day + dt.timedelta(days=day), at, tzinfo=zone).astimezone(dt.timezone.utc)
        for day in settings.checkin_offsets
    }


def may_contact(now: dt.datetime, timezone: str, settings: Settings) -> bool:
    """Inside the contact window and outside quiet hours, in the patient's local time. A run
    that comes late (the scheduler was down overnight) waits for the next window."""
    local = now.astimezone(ZoneInfo(timezone)).time()
    return in_window(local, settings.checkin_contact_window) and not in_window(local, settings.checkin_quiet_hours)
