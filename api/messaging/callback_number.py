"""Asking for a callback number in the chat, after the turn was triaged (issue 12 item 2).

Runs after the detector, the assistant and the conversation's triage have answered, so a
message that reports a warning sign has its triage reply first; never after an emergency reply
and never next to a clarifying question (one question at a time). The steps and the parser
live in api/conversations/callback_number.py; this module writes them, replies, and announces
the confirmed number on the conversation's case (escalation.updated, live and webhook).

Whatever fails here, the turn's own answer goes out unchanged (rule 3). The number is
patient data: it is in the reply and the database only, never in a log line or an event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from api.context import AppContext
from api.conversations import callback_number as steps
from api.conversations import repository
from api.conversations.models import Conversation
from api.conversations.schemas import Reply
from api.db import transaction
from api.escalations.repository import latest_enrollment
from api.escalations.service import contact_confirmed
from api.messaging.answer import Answer
from bot.triage import Tier
from bot.triage.conversation import Disposition

log = logging.getLogger("aftercare.messaging")
KIND = "callback_number"


@dataclass
class _Change:
    reply: Reply
    instead: bool  # the message was only about the number: the reply replaces the answer's
    misread: bool = False  # the model took the bare number for a report: its escalation goes too
    event: dict[str, Any] | None = None  # the case's escalation.updated, to publish


def may_follow_up(text: str, answer: Answer) -> bool:
    """Whether follow_up could change this answer; no database work, so the caller can skip the
    worker thread follow_up needs for most turns."""
    if answer.tier is Tier.EMERGENCY or answer.disposition is Disposition.EMERGENCY:
        return False  # never follow an emergency reply; the step waits for a later message
    return bool(answer.handoff or steps.find_number(text) or steps.says_yes(text) or steps.says_no(text))


def follow_up(ctx: AppContext, conversation_id: str, text: str, answer: Answer) -> Answer:
    """The answer with the callback-number question, confirmation or thanks where one is due.
    Runs in a worker thread (blocking database work); never raises."""
    if not may_follow_up(text, answer):
        return answer  # nothing this step could act on: no database round trip for most turns
    try:
        change = _step(ctx, conversation_id, text, answer)  # committed when it returns
    except Exception as error:  # the turn's own reply is a safe one: send it as it is
        log.error("callback number step failed", extra={"error_type": type(error).__name__})
        return answer
    if change is None:
        return answer
    if change.instead:
        # The assistant's reading of a bare number ("I did not understand", a topic guess) goes.
        answer.replies, answer.topic, answer.asked = [change.reply], None, None
        if change.misread:
            answer.tier, answer.disposition = Tier.NONE, None
    else:
        answer.replies.append(change.reply)
    if change.event is not None:
        ctx.events.publish(change.event)  # the hub never raises (Redis down: local dashboards)
    return answer


def _step(ctx: AppContext, conversation_id: str, text: str, answer: Answer) -> _Change | None:
    with transaction(ctx.sessions) as session:
        conversation = repository.get_conversation(session, conversation_id)
        if conversation is None:
            return None
        if conversation.callback_step is None:
            wanted = answer.handoff and answer.tier is Tier.NONE and answer.asked is None  # one question a turn
            if wanted and not _number_known(session, conversation):
                steps.start_asking(conversation)
                given = steps.find_number(text)  # "please call me on 07700 900123": confirm it at once
                if given is None:
                    return _Change(_reply(ctx, "callback_ask_number"), instead=False)
                steps.propose(conversation, given)
                return _Change(_reply(ctx, "callback_confirm_number", steps.BUTTONS, number=given), instead=False)
            return None
        number = steps.find_number(text)
        misread = number is not None and _misread_number(text, answer)
        calm = misread or (answer.tier is Tier.NONE and answer.disposition in (None, Disposition.SELF_CARE))
        confirming = conversation.callback_step == steps.CONFIRMING
        # Only about the callback: a bare number, or a bare Yes/No to "is that right?". The model
        # may read a bare number as a temperature and ask for one: that reading is dropped.
        answered = steps.says_yes(text) or steps.says_no(text)
        only = calm and (steps.is_essentially_number(text) if number else confirming and answered)
        if answer.asked is not None and not only:
            return None  # a clarifying question went out: the number can wait
        if number is not None:
            steps.propose(conversation, number)
            confirm = _reply(ctx, "callback_confirm_number", steps.BUTTONS, number=number)
            return _Change(confirm, instead=only, misread=only and misread)
        if not only:
            return None
        if steps.says_yes(text):
            number = steps.confirm(conversation)
            event = contact_confirmed(session, conversation_id, notify_webhook=bool(ctx.settings.webhook_url))
            return _Change(_reply(ctx, "callback_number_saved", number=number), instead=True, event=event)
        name = "callback_ask_number_again" if steps.decline(conversation) else "callback_number_not_given"
        return _Change(_reply(ctx, name), instead=True)


def _misread_number(text: str, answer: Answer) -> bool:
    """The statistical model read a message that is only a phone number as a report: no sign
    from the detector or the conversation backs the escalation, and we had asked for the number."""
    return answer.tier is Tier.CALL_PROVIDER and not answer.signs and steps.is_essentially_number(text)


def _number_known(session: Session, conversation: Conversation) -> bool:
    if conversation.contact_phone:
        return True
    enrollment = latest_enrollment(session, str(conversation.patient_id))
    return bool(enrollment and enrollment.phone_number)


def _reply(ctx: AppContext, name: str, buttons: list[dict[str, Any]] | None = None, **extra: object) -> Reply:
    answer = ctx.content.reply(name, ctx.clinic, None, **extra)
    return Reply(text=answer.text, kind=KIND, sources=list(answer.sources), buttons=buttons or [])
