"""Clinical content (answers with source ids) and the clinic's own settings."""
from bot.content.answers import Answer, Content, load_content, topic_for_intent
from bot.content.clinic import ClinicSettings, get_clinic

__all__ = ["Answer", "ClinicSettings", "Content", "get_clinic", "load_content", "topic_for_intent"]
