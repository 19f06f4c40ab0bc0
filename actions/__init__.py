"""rasa-sdk custom actions. Thin: the decisions live in `bot/`."""
