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


@router.get("/readyz")
def readyz(ctx: Ctx) -> JSONResponse:
    """200 only when the model is loaded and the database answers."""
    checks = {"model": ctx.assistant is not None, "database": _database_answers(ctx.engine)}
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not_ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
