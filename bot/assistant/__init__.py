"""Rasa integration: the NLU safety-net component, in-process actions and the agent."""
