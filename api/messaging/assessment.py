"""The assistant's answer merged with the conversation's assessment: the assessment's
disposition where it out-ranks the reply (a warning sign never gets an ordinary answer), its
clarifying question where the reply did not ask it, never a question with an emergency reply.
"""

from __future__ import annotations

import logging

from api.context import AppContext
from api.conversations.schemas import AnsweredBy, DispositionName, Reply, TriageFinding
from api.messaging.answer import Answer, phone_for
from bot.content import describe_signs
from bot.content.triage_replies import question_reply, triage_reply, wrote_fahrenheit
from bot.triage import Detection, Tier
from bot.triage.conversation import Assessment, Disposition, ReportedFinding

log = logging.getLogger("aftercare.messaging")


def with_assessment(ctx: AppContext, answer: Answer, assessment: Assessment | None, text: str) -> Answer:
    """The assessment's disposition where it out-ranks the reply, and its question if the
    reply did not ask it; never a question with an emergency reply."""
    if assessment is not None:
        outranks = Disposition.rank(assessment.disposition) > Disposition.rank(answer.disposition)
        if assessment.tier is not Tier.NONE and outranks:
            log.warning(
                "conversation's triage out-ranked the assistant's",
                extra={"disposition": str(assessment.disposition), "answered_by": answer.answered_by},
            )
            answered_by: AnsweredBy = "failsafe" if answer.answered_by == "failsafe" else "safety_net"
            answer = _disposition_answer(ctx, assessment, sorted(set(answer.signs) | set(assessment.signs)), text)
            answer.answered_by = answered_by
        else:
            answer.disposition = max(answer.disposition, assessment.disposition, key=Disposition.rank)
            answer.signs = sorted(set(answer.signs) | set(assessment.signs))
    if answer.tier is Tier.EMERGENCY or answer.disposition is Disposition.EMERGENCY:
        answer.replies = [r for r in answer.replies if r.kind != "follow_up"] or answer.replies
        answer.asked = None
        return answer
    question = assessment.question if assessment is not None else None
    if question and answer.asked is None:
        ask, buttons = question_reply(ctx.content, ctx.clinic, question)
        answer.replies.append(
            Reply(text=ask.text, kind="follow_up", sources=list(ask.sources), buttons=buttons, phone=None)
        )
        answer.asked = question
    return answer


def _disposition_answer(ctx: AppContext, assessment: Assessment, signs: list[str], text: str) -> Answer:
    disposition = assessment.disposition
    assert disposition is not None
    readings = [f.temperature_c for f in assessment.findings if f.temperature_c is not None]
    reply = triage_reply(
        ctx.content,
        ctx.clinic,
        disposition.value,
        describe_signs(signs),
        max(readings, default=None),
        wrote_fahrenheit(text),
    )
    tier = disposition.tier
    kind = "triage" if tier is not Tier.NONE else "answer"
    replies = [Reply(text=reply.text, kind=kind, sources=list(reply.sources), phone=phone_for(ctx, tier))]
    return Answer(replies, tier, signs, None, "safety_net", disposition=disposition)


def disposition_name(disposition: Disposition | None) -> DispositionName | None:
    return None if disposition is None else disposition.value


def findings(assessment: Assessment | None, detection: Detection) -> list[TriageFinding]:
    """`triage.findings`: the assessment's, or (when it failed) the detection's signs."""
    if assessment is not None:
        found = assessment.findings
    else:
        found = tuple(
            ReportedFinding(sign=s, temperature_c=detection.temperature_c if s == "fever" else None)
            for s in detection.signs
        )
    return [TriageFinding(**f.to_dict()) for f in found]
