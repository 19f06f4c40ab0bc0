"""Clinical content (answers with source ids) and the clinic's own settings."""

from bot.content.answers import Answer, Content, describe_signs, load_content, topic_for_intent
from bot.content.clinic import ClinicSettings, get_clinic

__all__ = ["Answer", "ClinicSettings", "Content", "describe_signs", "get_clinic", "load_content", "topic_for_intent"]
