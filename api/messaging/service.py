"""A patient message end to end: detector, assistant under a timeout, one transaction that
stores the message, the replies and any escalation. This package sits above the conversations
and escalations domains because it writes to both (neither imports it).

The detector runs first and always. Under the conversation's lock, the conversation's triage
state is loaded and the message assessed in its context (what was said before, the patient's
risk factors, the question left open); the assessment goes to the assistant with the message.
The reply is the assistant's unless it failed (then a fixed safe reply chosen by the detector's
tier) or unless it under-triaged what the detector or the conversation's assessment saw (then
a fixed reply for that disposition replaces it: a warning sign never gets an ordinary answer).
The assessment's clarifying question follows unless the reply asked it or was an emergency.
A turn is two transactions: the reads before the assistant is asked (the state, Rasa's window,
the case holder), then the messages, the new state and any case, committed before replying.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.care_team.service import held_reply_text, holding_nurse
from api.context import AppContext
from api.conversations import repository
from api.conversations.callback_number import without_numbers
from api.conversations.schemas import MessageResult, Reply, Triage
from api.db import off_loop, transaction
from api.escalations.service import event_payload, open_escalation
from api.messaging import callback_number
from api.messaging.answer import DISPOSITION_FOR_TIER, Answer, fixed_reply, from_assistant, safe_answer
from api.messaging.assessment import disposition_name, findings, with_assessment
from api.messaging.triage_state import load_state, save_state
from bot.triage import Detection, Tier
from bot.triage.conversation import Assessment, ConversationState, assess, detector_floor
from bot.triage.vocabulary import EscalationTier

log = logging.getLogger("aftercare.messaging")

# Rasa re-reads and re-featurises a conversation's whole tracker on every turn, so a week-long
# conversation would get slower with each message. Every turn here is a one-step rule (no slot
# influences the dialogue, the actions read only the latest message), so Rasa is shown the
# conversation in windows of this many turns (a new tracker per window); the full transcript
# stays in our messages table. Small, because a turn's cost rises with its place in the window:
# agent time per turn 26 ms at the start of a 20-turn window, 34 ms at its end; with 5, 24-26 ms
# throughout (aftercare_tools.benchmark.profile, 200 turns, 2026-11-28).
RASA_WINDOW_TURNS = 5


def _rasa_sender(session: Session, conversation_id: str) -> str:
    turns = repository.count_patient_messages(session, conversation_id)
    return f"{conversation_id}.{turns // RASA_WINDOW_TURNS}"


@dataclass
class _Before:
    """What a turn reads before it answers, in one transaction (one thread hop, one commit:
    these reads were three transactions, part of what each message cost at 8 concurrent)."""

    state: ConversationState
    sender: str | None  # the conversation's Rasa tracker window; None: unknown, the fail-safe answers
    holder: str | None = None  # the nurse holding the conversation's case, if any


def _read_before(ctx: AppContext, conversation_id: str, patient_id: str | None) -> _Before:
    try:
        with transaction(ctx.sessions) as session:
            state = load_state(session, conversation_id, patient_id)
            before = _Before(state, _rasa_sender(session, conversation_id))
            try:
                before.holder = holding_nurse(session, conversation_id)
            except Exception as error:  # cannot tell: the assistant's own answer is a safe one
                log.error("case holder lookup failed", extra={"error_type": type(error).__name__})
                session.rollback()
            return before
    except Exception as error:  # the database is down: this message and its detection decide
        log.error("turn's reads failed", extra={"error_type": type(error).__name__})
        return _Before(ConversationState.empty(), None)


async def _ask_assistant(
    ctx: AppContext, sender: str | None, text: str, detection: Detection, assessment: Assessment | None
) -> Answer:
    if ctx.assistant is None or sender is None:
        return safe_answer(ctx, detection, "failsafe")
    try:
        # The detection goes along, so the assistant does not run the detector a second time;
        # the assessment, so its actions reply by the conversation's disposition.
        reply = await asyncio.wait_for(
            ctx.assistant.respond(sender, without_numbers(text), detection=detection, assessment=assessment),
            ctx.settings.agent_timeout_seconds,
        )
    except Exception as error:  # timeout, model error, action error: the patient still gets a safe reply
        log.error(
            "assistant failed; answering with the fail-safe",
            exc_info=error,
            extra={"error_type": type(error).__name__},
        )
        return safe_answer(ctx, detection, "failsafe")
    answer = from_assistant(ctx, reply)
    if not answer.replies:
        return safe_answer(ctx, detection, "failsafe")
    if detector_floor(detection, assessment).rank > answer.tier.rank:  # "I feel hot": the question decides
        log.warning("detector out-ranked the assistant's triage", extra={"tier": detection.tier.value})
        return safe_answer(ctx, detection, "safety_net")
    answer.signs = sorted(set(answer.signs) | set(detection.signs))
    return answer


def _assess(
    ctx: AppContext, state: ConversationState, detection: Detection, text: str
) -> tuple[ConversationState | None, Assessment | None]:
    """(new state, assessment), or (None, None) if the assessment failed: the turn is then
    answered on the detection alone, as before, and the stored state stays as it was."""
    if text.startswith("/"):  # a button's Rasa intent shortcut ("/ask_soreness"), not the patient's words
        return None, None
    try:
        return assess(state, detection, text, fever_threshold_c=ctx.clinic.fever_threshold_c)
    except Exception as error:  # a bug in the engine must not cost the patient the reply
        log.error("conversation triage failed; detection only", extra={"error_type": type(error).__name__})
        return None, None


@dataclass
class _Stored:
    event: dict[str, Any] | None = None  # the case opened or updated, to announce
    escalation_id: str | None = None  # the conversation's case this turn reported to


def _persist(
    ctx: AppContext, conversation_id: str, text: str, answer: Answer, state: ConversationState | None
) -> _Stored:
    """Patient message, replies, triage state and escalation in ONE transaction, committed
    before replying."""
    with transaction(ctx.sessions) as session:
        patient_message = repository.add_message(session, conversation_id, "patient", text, answer.tier.value)
        for reply in answer.replies:
            repository.add_message(
                session, conversation_id, "assistant", reply.text, answer.tier.value, answer.answered_by
            )
        if state is not None:
            state.pending_question = answer.asked  # the question actually asked, not the one planned
            save_state(session, conversation_id, state)
        tier = _escalation_tier(answer)
        if not tier:
            return _Stored()
        escalation = open_escalation(
            session,
            conversation_id,
            patient_message.id,
            tier,
            answer.signs,
            notify_webhook=bool(ctx.settings.webhook_url),
        )
        return _Stored(event_payload(escalation), str(escalation.id))


def _escalation_tier(answer: Answer) -> str | None:
    if answer.tier is not Tier.NONE:
        return EscalationTier.for_triage(answer.tier).value
    return EscalationTier.CALLBACK.value if answer.handoff else None


def _persist_or_spool(
    ctx: AppContext, conversation_id: str, text: str, answer: Answer, state: ConversationState | None
) -> _Stored:
    """If the database fails, the escalation goes to the spool: the patient still gets the
    safe reply, and staff get the escalation when the database is back."""
    try:
        if ctx.spool.pending():
            ctx.spool.replay(ctx.sessions, notify_webhook=bool(ctx.settings.webhook_url))
        return _persist(ctx, conversation_id, text, answer, state)
    except Exception as error:  # database, driver (e.g. a value it cannot store), anything: spool (RES-3)
        log.error("database write failed", exc_info=error, extra={"error_type": type(error).__name__})
        _spool(ctx, conversation_id, text, _escalation_tier(answer), answer.signs)
        return _Stored()


def _spool(ctx: AppContext, conversation_id: str, text: str, tier: str | None, signs: list[str]) -> None:
    if not tier:
        return
    try:
        ctx.spool.save(conversation_id, text, tier, signs)
    except Exception as error:  # the reply still goes out; this line is what an operator must see
        log.critical(
            "escalation could not be stored or spooled", exc_info=error, extra={"error_type": type(error).__name__}
        )


async def handle_patient_message(
    ctx: AppContext, conversation_id: str, text: str, patient_id: str | None = None
) -> MessageResult:
    """Never raises: whatever fails below the reply, the patient gets a safe reply with the
    clinic's number, and a possible warning sign is escalated or spooled (rule 3, RES-3).
    `patient_id`: the conversation's patient, if the caller has checked it already."""
    try:
        return await _handle(ctx, conversation_id, text, patient_id)
    except Exception as error:
        log.error(
            "patient message failed; last-resort reply", exc_info=error, extra={"error_type": type(error).__name__}
        )
        return await off_loop(_last_resort, ctx, conversation_id, text)


def _last_resort(ctx: AppContext, conversation_id: str, text: str) -> MessageResult:
    try:
        detection = ctx.detector.detect(text)
        tier, signs = detection.tier, list(detection.signs)
    except Exception:  # cannot tell: treat it as a warning sign (over-triage is acceptable)
        tier, signs = Tier.CALL_PROVIDER, []
    _spool(ctx, conversation_id, text, tier.value if tier is not Tier.NONE else None, signs)
    try:
        replies = [fixed_reply(ctx, tier.value if tier is not Tier.NONE else "fallback_apology", tier, signs)]
    except Exception:  # even the content failed: plain words and the numbers
        clinic = ctx.clinic
        replies = [
            Reply(
                text=f"Sorry, I can't answer right now. Please call {clinic.clinic_name} on "
                f"{clinic.phone_now()}. In an emergency, call {clinic.emergency_number}.",
                kind="apology",
                phone=clinic.phone_now(),
            )
        ]
    return MessageResult(
        conversation_id=conversation_id,
        replies=replies,
        triage=Triage(level=tier.value, signs=signs, disposition=disposition_name(DISPOSITION_FOR_TIER.get(tier))),
        topic=None,
        escalation_id=None,
        answered_by="failsafe",
    )


def _while_held(ctx: AppContext, nurse: str | None, answer: Answer) -> Answer:
    """While a nurse holds this conversation's case, a routine answer becomes "your nurse will
    reply here". Warning signs keep the safe reply (and reach the case), whoever holds it. The
    assistant was still asked: its triage is the second safety net under the detector's."""
    if answer.tier is not Tier.NONE or nurse is None:
        return answer
    held = Reply(text=held_reply_text(ctx.clinic, nurse), kind="held", phone=ctx.clinic.phone_now())
    return Answer([held], answer.tier, answer.signs, answer.topic, answer.answered_by, disposition=answer.disposition)


async def _handle(ctx: AppContext, conversation_id: str, text: str, patient_id: str | None) -> MessageResult:
    detection = ctx.detector.detect(text)
    async with ctx.locks.hold(conversation_id):  # this turn commits before the next one starts
        before = await off_loop(_read_before, ctx, conversation_id, patient_id)
        new_state, assessment = _assess(ctx, before.state, detection, text)
        answer = await _ask_assistant(ctx, before.sender, text, detection, assessment)
        answer = with_assessment(ctx, answer, assessment, text)
        answer = _while_held(ctx, before.holder, answer)
        if callback_number.may_follow_up(text, answer):  # most turns: no worker thread for nothing
            answer = await off_loop(callback_number.follow_up, ctx, conversation_id, text, answer)
        stored = await off_loop(_persist_or_spool, ctx, conversation_id, text, answer, new_state)
    if stored.event:
        await off_loop(ctx.events.publish, stored.event)  # through Redis when several processes run
        log.info("escalation opened", extra={"tier": stored.event["tier"], "answered_by": answer.answered_by})
    return MessageResult(
        conversation_id=conversation_id,
        replies=answer.replies,
        triage=Triage(
            level=answer.tier.value,
            signs=answer.signs,
            disposition=disposition_name(answer.disposition),
            findings=findings(assessment, detection),
        ),
        topic=answer.topic,
        escalation_id=stored.escalation_id,
        answered_by=answer.answered_by,
    )
