"""Twilio's webhooks: inbound SMS and delivery status. Accepted only with a valid
X-Twilio-Signature over AFTERCARE_PUBLIC_BASE_URL + path and the form fields (SMS-1)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from api.db import in_transaction
from api.deps import Ctx
from api.errors import ApiError
from api.settings import Settings
from api.sms import service

router = APIRouter(prefix="/webhooks/sms/twilio", tags=["sms"], include_in_schema=False)


async def _signed_form(request: Request, settings: Settings) -> MultiDict:
    form = MultiDict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("X-Twilio-Signature", "")
    token = settings.twilio_auth_token
    if not token or not RequestValidator(token).validate(url, form, signature):
        raise ApiError(403, "invalid signature")
    return form


@router.post("")
async def inbound_sms(request: Request, ctx: Ctx) -> Response:
    form = await _signed_form(request, ctx.settings)
    reply = await service.handle_inbound(ctx, form.get("From", ""), form.get("Body", ""))
    twiml = MessagingResponse()
    twiml.message(reply)
    return Response(str(twiml), media_type="application/xml")


@router.post("/status", status_code=204)
async def delivery_status(request: Request, ctx: Ctx) -> Response:
    form = await _signed_form(request, ctx.settings)
    if form.get("MessageSid") and form.get("MessageStatus"):
        await in_transaction(ctx.sessions, service.record_status, form["MessageSid"], form["MessageStatus"])
    return Response(status_code=204)
