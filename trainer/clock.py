"""The one place that reads the clock. Rules take ``now``/``today`` as arguments instead."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_zone() -> ZoneInfo:
    name = current_app.config.get("TIMEZONE", "Asia/Shanghai") if has_app_context() else None
    return ZoneInfo(name or "Asia/Shanghai")


def today() -> dt.date:
    """Today's date where the platform's users are (dates the law counts are local dates)."""
    return utcnow().astimezone(local_zone()).date()
