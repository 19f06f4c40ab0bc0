"""One pure-ASGI middleware for every request: request id, body limit, headers, access log.

Pure ASGI (not BaseHTTPMiddleware) keeps the per-request cost small on the hot path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logging_config import request_id_var

log = logging.getLogger("aftercare.access")
errors_log = logging.getLogger("aftercare.errors")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# Responses under these prefixes may carry PHI: never cached (HDR-1).
_NO_STORE_PREFIXES = ("/api/", "/webhooks/", "/staff")
_NEVER_FRAMED_PREFIXES = ("/staff", "/api/v1/staff")


class _BodyTooLarge(HTTPException):
    """Raised while FastAPI reads the body; it re-raises HTTPExceptions to our handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes")


class _BodyTooSlow(HTTPException):
    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"request body not received within {seconds:g} seconds")


class RequestMiddleware:
    def __init__(
        self, app: ASGIApp, max_body_bytes: int, frame_ancestors: list[str], hsts: bool, body_timeout: float = 30.0
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        self.hsts = hsts
        policy = (
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors "
        )
        self.csp = (policy + (" ".join(frame_ancestors) or "'none'")).encode()
        self.unframed_csp = (policy + "'none'").encode()  # staff pages: never framed, even by the portal (HDR-2)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        inbound = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = inbound if _SAFE_REQUEST_ID.match(inbound) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status: dict[str, object] = {"code": 500}
        no_store = scope["path"].startswith(_NO_STORE_PREFIXES)
        csp = self.unframed_csp if scope["path"].startswith(_NEVER_FRAMED_PREFIXES) else self.csp

        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send, request_id)
            request_id_var.reset(token)
            return

        received = 0
        body_done = False
        deadline: float | None = None

        async def limited_receive() -> Message:
            nonlocal received, body_done, deadline
            if body_done:  # later reads wait for a disconnect (live streams): no deadline
                return await receive()
            loop = asyncio.get_running_loop()
            deadline = deadline or loop.time() + self.body_timeout  # RES-4: slow bodies end
            try:
                message = await asyncio.wait_for(receive(), max(deadline - loop.time(), 0.0))
            except asyncio.TimeoutError:
                raise _BodyTooSlow(self.body_timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _BodyTooLarge(self.max_body_bytes)
                body_done = not message.get("more_body", False)
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
                extra = [
                    (b"x-request-id", request_id.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"content-security-policy", csp),
                ]
                if no_store:
                    extra.append((b"cache-control", b"no-store"))
                if self.hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                kept = [h for h in message.get("headers", []) if h[0] != b"cache-control" or not no_store]
                message["headers"] = kept + extra
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except Exception as error:
            # Here, not in an exception handler: Starlette runs those outside every middleware,
            # where the 500 would lose these headers and the log line its request id (ERR-1).
            errors_log.error("unhandled error", exc_info=error, extra={"error_type": type(error).__name__})
            if status.get("started"):
                raise  # part of the response is out: nothing better to send
            await _internal_error(send_with_headers, request_id)
        finally:
            route = scope.get("route")
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": getattr(route, "path", "unmatched"),  # template, never the raw URL
                    "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            request_id_var.reset(token)

    async def _too_large(self, send: Send, request_id: str) -> None:
        body = json.dumps(
            {
                "error": {"code": "payload_too_large", "message": f"request body over {self.max_body_bytes} bytes"},
                "request_id": request_id,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _internal_error(send: Send, request_id: str) -> None:
    body = json.dumps(
        {
            "error": {"code": "internal_error", "message": "something went wrong; the team has been told"},
            "request_id": request_id,
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette refuses a preflight from a foreign origin in plain text; ours is the JSON error
    shape every other refusal has (ERR-1). The request id is not known yet at this layer."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode(errors="replace")  # e.g. "Disallowed CORS origin"
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-type", "content-length")}
        return JSONResponse(
            {"error": {"code": "cors_refused", "message": reason}, "request_id": None},
            status_code=response.status_code,
            headers=headers,
        )
