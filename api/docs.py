"""The OpenAPI document: public in development, staff-only in production.

No Swagger UI or ReDoc: both load their scripts from a CDN, which the CSP (script-src 'self')
blocks, and shipping their bundles is not worth it for a JSON document any OpenAPI tool reads.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import AppSettings, DbSession
from api.staff.deps import BearerCredentials, CookieToken, current_staff

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
def openapi_document(
    request: Request, db: DbSession, settings: AppSettings, bearer: BearerCredentials, cookie: CookieToken
) -> JSONResponse:
    if settings.is_production:
        current_staff(request, db, settings, bearer, cookie)  # 401 without a staff session
    return JSONResponse(request.app.openapi())
