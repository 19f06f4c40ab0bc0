"""The care team talking to the patient: a nurse's replies in the patient's transcript, the
patient's live feed of them, and who holds the conversation (the assistant steps back)."""
