"""`minsheng check` runs these with Django's own checks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.db import connection


@register(Tags.database, deploy=False)
def database_reachable(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if not kwargs.get("databases"):
        return []
    try:
        connection.ensure_connection()
    except Exception as exc:
        return [Error(f"Cannot connect to the database: {exc}", id="minsheng.E001")]
    return []


@register()
def vendor_assets_present(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    vendor = settings.BASE_DIR / "minsheng" / "static" / "vendor"
    missing = [name for name in ("htmx.min.js", "tabler.min.css") if not (vendor / name).exists()]
    if missing:
        return [
            Warning(
                "Front-end assets are missing: " + ", ".join(missing),
                hint="Run `make assets` (npm ci from the lock file, then copy into minsheng/static/vendor).",
                id="minsheng.W001",
            )
        ]
    return []
