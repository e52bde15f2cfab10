"""Application assembly: configuration, extensions, blueprints, error handlers."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from trainer import config as config_module
from trainer.extensions import babel, csrf, db, login_manager, migrate

# Each feature area contributes a blueprint (pages) and optionally an API blueprint and a
# CLI group. Listed here, in one place, so nothing registers itself at import time.
BLUEPRINTS = [
    "trainer.core.views:bp",
    "trainer.accounts.views:bp",
    "trainer.accounts.admin_views:bp",
    "trainer.audit.views:bp",
    "trainer.api.core:bp",
    "trainer.certificates.backlog_views:bp",
    "trainer.certificates.views:bp",
    "trainer.courses.views:bp",
    "trainer.courses.api:bp",
    "trainer.exams.views:bp",
    "trainer.exams.api:bp",
    "trainer.exams.admin_views:bp",
]

PACKAGE_ROOT = Path(__file__).parent


def translation_directories() -> str:
    dirs = sorted(str(p) for p in PACKAGE_ROOT.glob("**/translations") if p.is_dir())
    return ";".join(dirs) or str(PACKAGE_ROOT / "translations")


def load(spec: str) -> Any:
    module_name, attr = spec.split(":")
    return getattr(importlib.import_module(module_name), attr)


def build(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask("trainer", instance_path=str(config_module.instance_dir().resolve()))
    app.config.update(config_module.from_environment())
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = translation_directories()
    if overrides:
        if "DATABASE_URL" in overrides:
            overrides = dict(overrides)
            overrides["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(
                overrides.pop("DATABASE_URL")
            )
        app.config.update(overrides)
    config_module.check(app.config)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        Path(uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PACKAGE_ROOT.parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)

    from trainer import i18n

    babel.init_app(app, locale_selector=i18n.select_locale,
                   timezone_selector=i18n.select_timezone)
    i18n.init_app(app)

    from trainer import auth, errors, models  # noqa: F401  (models: every table is known)

    auth.init_app(app)
    errors.init_app(app)
    for spec in app.config.get("BLUEPRINTS_OVERRIDE", BLUEPRINTS):
        app.register_blueprint(load(spec))

    from trainer import cli

    cli.init_app(app)
    return app
