"""The profile tool replays a long conversation the way the service shows it to Rasa."""

from aftercare_tools.benchmark import profile
from api.messaging.service import RASA_WINDOW_TURNS


def test_the_profile_uses_the_service_s_tracker_window():
    assert profile.RASA_WINDOW_TURNS == RASA_WINDOW_TURNS
