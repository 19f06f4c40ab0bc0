"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import openapi_contract
from api.context import AppContext, Responder
from api.db import make_engine, make_session_factory, migrate
from api.errors import install_error_handlers
from api.escalations.events import RedisEventHub
from api.logging_config import configure_logging
from api.messaging.spool import EscalationSpool
from api.middleware import JsonCORSMiddleware, RequestMiddleware
from api.ratelimit import RateLimits
from api.settings import Settings
from api.staff.login_guard import LoginGuard, ThrottleAudit
from bot.assistant.runtime import Assistant
from bot.content import load_content
from bot.triage import get_detector

log = logging.getLogger("aftercare.app")
API_DESCRIPTION = """Marrow Aftercare: a triage assistant for patients after a bone marrow aspiration and biopsy.
Patient routes need `Authorization: Bearer <portal JWT>`."""


def load_assistant(settings: Settings) -> Assistant:
    """The trained model with its tracker store (blocking, 20-30 s)."""
    from api.tracker_store import build_tracker_store

    return Assistant.load(
        settings.model_path,
        tracker_store=build_tracker_store(settings.database_url),
        clinic=settings.clinic,
    )


async def _load_in_background(ctx: AppContext) -> None:
    """Model load takes 20-30 s: the API serves (fail-safe replies) meanwhile, /readyz says 503."""
    try:
        ctx.assistant = await asyncio.get_running_loop().run_in_executor(None, load_assistant, ctx.settings)
        log.info("assistant loaded")
    except Exception as error:
        ctx.assistant_error = type(error).__name__
        log.error(
            "assistant failed to load; serving fail-safe replies",
            exc_info=error,
            extra={"error_type": type(error).__name__},
        )


def _share_through_redis(ctx: AppContext) -> None:
    """Several workers or replicas: what coordinates lives in Redis, not in this process."""
    import redis.asyncio

    from api.core.locks import RedisLocks

    ctx.events = RedisEventHub(ctx.settings.redis_url)
    ctx.redis = redis.asyncio.from_url(ctx.settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
    ctx.locks = RedisLocks(ctx.redis, wait_seconds=max(15.0, 3 * ctx.settings.agent_timeout_seconds))


def create_app(settings: Settings, assistant: Responder | None = None, load_assistant: bool = True) -> FastAPI:
    """`assistant`: an already loaded Assistant (tests share one); else it loads in the background."""
    configure_logging(settings.log_level)
    engine = make_engine(settings.database_url)
    ctx = AppContext(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        detector=get_detector(settings.clinic.fever_threshold_c),
        content=load_content(settings.clinic.content_path),
        spool=EscalationSpool(settings.spool_path),
        assistant=assistant,
    )
    if settings.redis_url:
        _share_through_redis(ctx)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(engine)
        ctx.spool.replay(ctx.sessions, notify_webhook=bool(settings.webhook_url))
        from api.sms.service import drain_waiting  # SMS warning signs kept while the database was down

        drain_waiting(ctx)
        loading = None
        if ctx.assistant is None and load_assistant:
            loading = asyncio.create_task(_load_in_background(ctx))
        from api.escalations.outbox import start_worker  # webhook deliveries from the persisted outbox

        outbox = start_worker(ctx)
        from api.escalations.overdue import start_worker as start_overdue  # one overdue event per case

        overdue = start_overdue(ctx)
        listening = asyncio.create_task(ctx.events.listen()) if isinstance(ctx.events, RedisEventHub) else None
        yield
        outbox.cancel()
        overdue.cancel()
        if listening:
            listening.cancel()
        ctx.events.close()
        if loading and not loading.done():
            loading.cancel()
        if ctx.redis is not None:
            await ctx.redis.close()
        engine.dispose()

    app = FastAPI(
        title="Marrow Aftercare API",
        version="1.0.0",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )  # api/docs.py serves the document
    app.state.ctx = ctx
    app.state.rate_limits = RateLimits(
        settings.patient_rate_limit, settings.client_rate_limit, settings.login_rate_limit, settings.redis_url
    )
    app.state.login_guard = LoginGuard(
        settings.login_rate_limit, settings.login_global_failure_limit, redis_url=settings.redis_url
    )
    app.state.login_throttle_audit = ThrottleAudit()
    app.state.unauthenticated_audit = ThrottleAudit()
    install_error_handlers(app)
    _include_routers(app)
    openapi_contract.install(app)
    app.add_middleware(
        JsonCORSMiddleware,
        allow_origins=settings.origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        allow_credentials=False,
    )
    app.add_middleware(
        RequestMiddleware,
        max_body_bytes=settings.max_body_bytes,
        frame_ancestors=settings.origins,
        hsts=settings.is_production,
        body_timeout=settings.body_timeout_seconds,
    )
    return app


def _include_routers(app: FastAPI) -> None:
    from api import health
    from api.conversations import router as conversations
    from api.messaging import rest_channel
    from api.messaging import router as messaging

    for module in (health, conversations, messaging, rest_channel):
        app.include_router(module.router)
    from api import docs
    from api.audit import pages as audit_pages
    from api.audit import router as audit
    from api.care_team import router as care_team
    from api.enrollments import pages as enrollment_pages
    from api.enrollments import router as enrollments
    from api.escalations import router as escalations
    from api.reports import pages as report_pages
    from api.sms import router as sms
    from api.staff import router as staff
    from api.widget import router as widget

    for module in (
        staff,
        escalations,
        care_team,
        audit,
        audit_pages,
        report_pages,
        widget,
        enrollments,
        enrollment_pages,
        sms,
        docs,
    ):
        app.include_router(module.router)
