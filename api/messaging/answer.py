"""One turn's answer as it is built: the assistant's replies, or a fixed safe reply, with the
tier, signs and disposition they stand for. service.py decides which; this module only builds.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.context import AppContext
from api.conversations.schemas import AnsweredBy, Reply
from bot.assistant.runtime import AssistantReply
from bot.content import describe_signs
from bot.triage import Detection, Tier
from bot.triage.conversation import Disposition

DISPOSITION_FOR_TIER = {Tier.EMERGENCY: Disposition.EMERGENCY, Tier.CALL_PROVIDER: Disposition.CALL_NOW}


@dataclass
class Answer:
    replies: list[Reply]
    tier: Tier
    signs: list[str]
    topic: str | None
    answered_by: AnsweredBy
    handoff: bool = False
    disposition: Disposition | None = None
    asked: str | None = None  # the clarifying question the replies ask, if any

    def __post_init__(self) -> None:
        if self.disposition is None:
            self.disposition = DISPOSITION_FOR_TIER.get(self.tier)


def fixed_reply(ctx: AppContext, name: str, tier: Tier, signs: list[str]) -> Reply:
    answer = ctx.content.reply(name, ctx.clinic, signs=describe_signs(signs))
    return Reply(
        text=answer.text,
        kind="triage" if tier is not Tier.NONE else "apology",
        sources=list(answer.sources),
        phone=phone_for(ctx, tier),
    )


def phone_for(ctx: AppContext, tier: Tier) -> str | None:
    if tier is Tier.EMERGENCY:
        return ctx.clinic.emergency_number
    if tier is Tier.CALL_PROVIDER:
        return ctx.clinic.phone_now()
    return None


def safe_answer(ctx: AppContext, detection: Detection, answered_by: AnsweredBy) -> Answer:
    """The reply when the assistant cannot be trusted or reached."""
    tier = detection.tier
    name = tier.value if tier is not Tier.NONE else "fallback_apology"
    return Answer([fixed_reply(ctx, name, tier, detection.signs)], tier, detection.signs, None, answered_by)


def from_assistant(ctx: AppContext, reply: AssistantReply) -> Answer:
    replies = []
    dispositions: list[Disposition | None] = []
    asked = None
    for message in reply.messages:
        custom = message.get("custom") or {}
        if not message.get("text"):
            continue
        if custom.get("disposition") in {d.value for d in Disposition}:
            dispositions.append(Disposition(custom["disposition"]))
        asked = asked or custom.get("question")
        tier = Tier(custom.get("tier", "none"))
        replies.append(
            Reply(
                text=message["text"],
                kind=custom.get("kind"),
                sources=custom.get("sources", []),
                buttons=message.get("buttons", []),
                phone=phone_for(ctx, tier),
            )
        )
    answer = Answer(replies, reply.tier, reply.signs, reply.topic, "assistant", handoff="handoff" in reply.kinds)
    answer.disposition = max([answer.disposition, *dispositions], key=Disposition.rank)
    answer.asked = asked
    return answer
