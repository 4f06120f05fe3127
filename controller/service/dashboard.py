"""The dashboard: one HTML page, a script and a vendored chart library, served by the app.

The page and its static files are public (they hold no park data); every figure on it is
fetched from the API with a key the user enters once (kept in the tab's sessionStorage) or
opens the page with as ``/#key=...``. Chart.js is vendored in ``static/vendor`` with its
licence; no build step and no network access are needed.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
router = APIRouter(tags=["dashboard"])


@router.get("/", include_in_schema=False)
def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
