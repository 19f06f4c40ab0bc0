"""What a check-in says. The questions are the seed's warning signs (MEDLINEPLUS; WEBMD and
NHLBI for fluid; /work/shared/clinical/aftercare-facts.md "Warning signs"), asked, never
answered: the answer goes through triage like any message. `now` is the moment of sending
(the run's clock): the number to call depends on it (hours, holidays).

An SMS carries no diagnosis and no transcript (SMS-1): the clinic's name, that it is a
check-in, how to answer, the clinic's number and the portal link, nothing more."""

from __future__ import annotations

import datetime as dt

from bot.content import ClinicSettings

QUESTIONS = (
    "Any bleeding or fluid leaking where the sample was taken?",
    "Any redness or swelling there?",
    "Is the pain better, the same or worse?",
    "Any fever? If you took your temperature, what was it?",
    "Anything else you want us to know?",
)
SOURCES = ("MEDLINEPLUS", "WEBMD", "NHLBI")


def portal_message(clinic: ClinicSettings, day: int, now: dt.datetime) -> str:
    numbered = "\n".join(f"{n}. {q}" for n, q in enumerate(QUESTIONS, start=1))
    return (
        f"Hello from {clinic.clinic_name}: this is your day {day} check-in after your procedure. "
        f"Please tell us, in your own words:\n{numbered}\n"
        f"If something worries you now, call {clinic.phone_now(now)}."
    )


def sms_message(clinic: ClinicSettings, day: int, portal_url: str, now: dt.datetime) -> str:
    return (
        f"{clinic.clinic_name}: your day {day} check-in. Reply with: any bleeding, redness or swelling; "
        f"pain better, same or worse; any fever (temperature); anything else. "
        f"Or answer at {portal_url}. Worried? Call {clinic.phone_now(now)}. Reply STOP to opt out."
    )


# The widget's answer buttons: each payload is sent as the patient's message, so it is triaged
# like typed text (a "worse" or "bleeding" button escalates); the all-clear ones say "no" to every
# sign explicitly, which the rules detector reads as negated.
ANSWER_BUTTONS = (
    ("All fine, pain better", "No bleeding, no redness or swelling, no fever, and the pain is better."),
    ("All fine, pain the same", "No bleeding, no redness or swelling, no fever. The pain is about the same."),
    ("Pain is worse", "The pain is getting worse."),
    ("Bleeding or fluid", "There is bleeding or fluid leaking at the site."),
    ("Redness or swelling", "The site is red or swollen."),
    ("Fever", "I have a fever."),
)


def reminder_portal_message(clinic: ClinicSettings, day: int, now: dt.datetime) -> str:
    return (
        f"A reminder from {clinic.clinic_name}: your day {day} check-in above is still waiting for your answer. "
        f"If something worries you now, call {clinic.phone_now(now)}."
    )


def reminder_sms_message(clinic: ClinicSettings, day: int, portal_url: str, now: dt.datetime) -> str:
    return (
        f"{clinic.clinic_name}: a reminder of your day {day} check-in. Reply with how you are, or answer at "
        f"{portal_url}. Worried? Call {clinic.phone_now(now)}. Reply STOP to opt out."
    )
