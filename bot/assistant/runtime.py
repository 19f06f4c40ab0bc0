"""The trained Rasa agent, loaded in-process, behind one small async interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.assistant.environment import prepare_runtime
from bot.content import ClinicSettings
from bot.triage import Detection, Tier
from bot.triage.conversation import ASSESSMENT_KEY, Assessment
from bot.triage.model import DETECTION_KEY

DEFAULT_MODEL = Path("models/aftercare.tar.gz")


@dataclass
class AssistantReply:
    """What the assistant said, and what its actions reported about it."""

    messages: list[dict[str, Any]]
    tier: Tier = Tier.NONE
    signs: list[str] = field(default_factory=list)
    topic: str | None = None
    kinds: frozenset[str] = frozenset()

    @classmethod
    def from_messages(cls, messages: list[dict[str, Any]]) -> AssistantReply:
        customs = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
        tiers = [Tier(c.get("tier", "none")) for c in customs]
        signs = sorted({s for c in customs for s in c.get("signs", ())})
        topic = next((c["topic"] for c in customs if c.get("topic")), None)
        return cls(
            messages=messages,
            tier=max(tiers, key=Tier.rank, default=Tier.NONE),
            signs=signs,
            topic=topic,
            kinds=frozenset(c.get("kind", "") for c in customs),
        )


def _collector():
    from rasa.core.channels.channel import OutputChannel

    class ReplyCollector(OutputChannel):
        """Keeps each bot message whole (text, buttons and custom payload together)."""

        def __init__(self) -> None:
            self.messages: list[dict[str, Any]] = []

        @classmethod
        def name(cls) -> str:
            return "aftercare"

        async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
            kept = {k: v for k, v in message.items() if v not in (None, [], {}) and k != "recipient_id"}
            self.messages.append(kept)

    return ReplyCollector()


class Assistant:
    def __init__(self, agent: Any) -> None:
        self.agent = agent

    @classmethod
    def load(
        cls, model_path: Path = DEFAULT_MODEL, tracker_store: Any = None, clinic: ClinicSettings | None = None
    ) -> Assistant:
        """Blocking (20-30 s on first load): call it from a worker thread in servers.

        `clinic`: the settings the actions answer with (the API passes `settings.clinic`);
        without it they read AFTERCARE_* (the shell, tests)."""
        prepare_runtime()
        from rasa.core.agent import Agent

        from bot.assistant import rasa_speedups
        from bot.assistant.inprocess_actions import InProcessActionEndpoint

        if not Path(model_path).exists():
            raise FileNotFoundError(f"no trained model at {model_path}; run `aftercare train`")
        rasa_speedups.install()
        agent = Agent(action_endpoint=InProcessActionEndpoint(clinic), tracker_store=tracker_store)
        agent.load_model(str(model_path))
        return cls(agent)

    async def respond(
        self,
        conversation_id: str,
        text: str,
        detection: Detection | None = None,
        assessment: Assessment | None = None,
    ) -> AssistantReply:
        """`detection`: the detector's result for `text` if the caller has it already; it travels
        with the message, so the NLU component and the triage action do not detect again.
        `assessment`: the conversation's triage after `text` (the API keeps the conversation's
        state); the triage action replies by its disposition and asks its question."""
        from rasa.core.channels.channel import UserMessage

        collector = _collector()
        metadata: dict[str, Any] = {}
        if detection is not None:
            metadata[DETECTION_KEY] = detection.to_dict()
        if assessment is not None:
            metadata[ASSESSMENT_KEY] = assessment.to_dict()
        await self.agent.handle_message(UserMessage(text, collector, conversation_id, metadata=metadata or None))
        return AssistantReply.from_messages(collector.messages)
