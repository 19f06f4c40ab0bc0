"""The patient-message flow, above the conversations and escalations domains."""
