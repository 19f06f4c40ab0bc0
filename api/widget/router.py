"""The embeddable patient chat widget, and a development-only demo portal.

A portal page loads /widget/widget.js with a plain <script src> from this origin: classic
scripts and stylesheets need no CORS. The widget's calls to /api/v1 are cross-origin from the
portal, so they go through CORSMiddleware, which allows only the configured portal origins
(CORS-1). Our own pages carry no inline script or style, so the strict CSP (HDR-1) holds.

/widget/config.json is what the widget needs when a message cannot be sent: the clinic's
number, the emergency number, and the emergency signs' words from warning_signs.yml. It is
public and the same for every patient (no token, nothing about anyone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, JSONResponse

from api.deps import AppSettings, Ctx
from api.errors import ApiError
from api.identity import mint_patient_token
from bot.triage import Tier
from bot.triage.rules import Rules

STATIC = Path(__file__).with_name("static")
DEMO_PATIENT_ID = "demo-patient"

# Allow-listed files only: the name in the URL never becomes a path on its own.
_WIDGET_FILES = {
    "widget.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}
_DEMO_FILES = {
    "portal.js": "text/javascript; charset=utf-8",
    "portal.css": "text/css; charset=utf-8",
}
_CROSS_ORIGIN = {"Cross-Origin-Resource-Policy": "cross-origin"}  # portals that send COEP may still load it
_ASSET_HEADERS = {
    "Cache-Control": "no-cache",  # revalidate: a widget fix reaches every portal at once
    **_CROSS_ORIGIN,
}
_NOT_FOUND = "Not Found"  # the same words as an unknown route: a disabled demo reveals nothing

router = APIRouter(include_in_schema=False)


def _file(folder: Path, name: str, allowed: dict[str, str]) -> FileResponse:
    media_type = allowed.get(name)
    if media_type is None:
        raise ApiError(404, _NOT_FOUND)
    return FileResponse(folder / name, media_type=media_type, headers=_ASSET_HEADERS)


def emergency_terms(rules: Rules) -> dict[str, list[Any]]:
    """The emergency signs' phrases and word pairs, for the widget's plain matching (no spaCy)."""
    signs = [sign for sign in rules.signs.values() if sign.tier is Tier.EMERGENCY]
    phrases = sorted({p for sign in signs for p in sign.phrases if "<n>" not in p})
    pairs = [[list(near.words), [w for w in near.with_ if "<n>" not in w]] for sign in signs for near in sign.near]
    return {"phrases": phrases, "pairs": pairs}


@router.get("/widget/config.json")  # before /widget/{name}, which would take the name
async def widget_config(ctx: Ctx) -> JSONResponse:
    clinic = ctx.clinic
    config = {
        "clinic_name": clinic.clinic_name,
        "clinic_phone": clinic.phone_now(),  # day line or after-hours line, as now
        "emergency_number": clinic.emergency_number,
        "emergency_terms": emergency_terms(ctx.detector.rules),
    }
    return JSONResponse(config, headers={"Cache-Control": "no-store", **_CROSS_ORIGIN})


@router.get("/widget/{name}")
async def widget_file(name: str) -> FileResponse:
    return _file(STATIC, name, _WIDGET_FILES)


def development_only(settings: AppSettings) -> None:
    if settings.environment != "development":
        raise ApiError(404, _NOT_FOUND)


demo = APIRouter(prefix="/demo", dependencies=[Depends(development_only)])


@demo.get("/portal")
async def demo_portal() -> FileResponse:
    """A stand-in clinic portal that embeds the widget the way a real portal would."""
    return FileResponse(
        STATIC / "demo" / "portal.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@demo.get("/{name}")
async def demo_file(name: str) -> FileResponse:
    return _file(STATIC / "demo", name, _DEMO_FILES)


@demo.post("/token")
async def demo_token(settings: AppSettings) -> JSONResponse:
    """What a portal's back end does for its signed-in patient, with the development key."""
    token = mint_patient_token(DEMO_PATIENT_ID, settings)
    return JSONResponse({"token": token}, headers={"Cache-Control": "no-store"})  # never cached


router.include_router(demo)
