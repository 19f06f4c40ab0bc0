from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from api.deps import Ctx

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


def _database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


@router.get("/readyz")
def readyz(ctx: Ctx) -> JSONResponse:
    """200 only when the model is loaded, the database answers and, with several processes,
    Redis answers and the live queue is subscribed; 503 from SIGTERM on (draining), so a load
    balancer stops sending before the server stops accepting."""
    checks = {"model": ctx.assistant is not None, "database": _database_answers(ctx.engine)}
    if ctx.settings.redis_url:
        checks["redis"] = _redis_answers(ctx.settings.redis_url)
        checks["live_queue"] = bool(getattr(ctx.events, "listening", False))
    checks["accepting"] = not ctx.draining
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
