"""Outbound SMS through the `twilio` library's REST client, with its API base configurable
(AFTERCARE_TWILIO_API_BASE): tests point it at a local fake server that records requests."""

from __future__ import annotations

import logging
from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from api.settings import Settings

TWILIO_API_BASE = "https://api.twilio.com"
SEND_TIMEOUT_SECONDS = 10.0
STATUS_PATH = "/webhooks/sms/twilio/status"  # api.sms.router's delivery_status

# twilio logs every request URL at INFO (it holds the account SID): keep that out of our logs.
_quiet = logging.getLogger("aftercare.sms.twilio_http")
_quiet.setLevel(logging.WARNING)


class _BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    """Rewrites Twilio's API host to the configured base (a regional proxy, or the test fake)."""

    def __init__(self, api_base: str) -> None:
        super().__init__(timeout=SEND_TIMEOUT_SECONDS, logger=_quiet)
        self.api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API_BASE):
            url = self.api_base + url[len(TWILIO_API_BASE) :]
        return super().request(method, url, *args, **kwargs)


class TwilioSender:
    def __init__(self, settings: Settings) -> None:
        self.from_number = settings.twilio_from_number
        # Twilio posts delivery status here (signed like the inbound webhook); a bare number has
        # no account-wide setting for it, so every message names it.
        self.status_callback = settings.public_base_url.rstrip("/") + STATUS_PATH
        self.client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=_BaseUrlHttpClient(settings.twilio_api_base),
        )

    def send(self, to: str, body: str) -> str:
        message = self.client.messages.create(
            to=to, from_=self.from_number, body=body, status_callback=self.status_callback
        )
        return str(message.sid)


def sms_sender(settings: Settings) -> TwilioSender | None:
    """None when Twilio is not configured (check-ins for SMS then wait, with their error stored)."""
    return TwilioSender(settings) if settings.sms_configured else None
