"""Language and time zone: chosen by the user, else by the browser, else zh-CN."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import LazyString, format_datetime
from flask_login import current_user

LANGUAGES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    if not has_request_context():  # commands print in the configured default language
        return str(current_app.config.get("CLI_LOCALE", "en"))
    chosen = session.get("locale")
    if chosen in LANGUAGES:
        return str(chosen)
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return str(current_user.locale)
    best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
    if best and best.startswith("zh"):
        return "zh_CN"
    if best == "en":
        return "en"
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN"))


def select_timezone() -> str:
    return str(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def html_lang() -> str:
    return "zh-CN" if select_locale() == "zh_CN" else "en"


def local_datetime(value: dt.datetime | None) -> str:
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value else ""


def plain_lazy_strings(value: Any) -> Any:
    """Jinja ``finalize``: a lazy translation is shown as the plain text it is.

    Flask-Babel's LazyString has ``__html__`` returning the raw string, so autoescape trusts it;
    ``_l("Unknown role %(role)s", role=cell)`` would then put a cell of an uploaded file into
    the page as HTML. Jinja applies ``finalize`` before it escapes ``{{ ... }}`` output, so
    turning lazy strings into ``str`` here makes every template escape them.
    """
    return str(value) if isinstance(value, LazyString) else value


def init_app(app: Flask) -> None:
    app.jinja_env.finalize = plain_lazy_strings
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, html_lang=html_lang,
                                 current_locale=select_locale)
    app.jinja_env.filters["localtime"] = local_datetime
