"""Course pages and lesson media (/courses/...)."""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import Blueprint, abort, current_app
from flask_login import current_user
from werkzeug.wrappers import Response

from trainer.auth import require
from trainer.courses import services
from trainer.courses.delivery import media_response
from trainer.courses.models import Lesson
from trainer.courses.storage import StorageError, get_storage
from trainer.db import db

bp = Blueprint("courses", __name__, url_prefix="/courses", template_folder="templates")


def accel_prefix() -> str | None:
    prefix = current_app.config.get("MEDIA_ACCEL_PREFIX") or ""
    if not prefix and current_app.config.get("X_ACCEL_REDIRECT"):
        prefix = "/_media"
    return prefix or None


def viewable_lesson(lesson_id: int) -> Lesson:
    """The lesson, if the caller may watch it; else 404 (not even whether it exists)."""
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or not services.can_view_lesson(current_user, lesson):
        abort(404)
    return lesson


def _serve(key: str | None) -> Response:
    if not key:
        abort(404)
    try:
        return media_response(get_storage(), key, etag_seed=PurePosixPath(key).stem,
                              accel_prefix=accel_prefix())
    except StorageError:
        abort(404)


@bp.route("/lessons/<int:lesson_id>/video")
@require()
def lesson_video(lesson_id: int) -> Response:
    return _serve(viewable_lesson(lesson_id).media_path)


@bp.route("/lessons/<int:lesson_id>/poster")
@require()
def lesson_poster(lesson_id: int) -> Response:
    return _serve(viewable_lesson(lesson_id).poster)


@bp.route("/lessons/<int:lesson_id>/subtitles/<lang>.vtt")
@require()
def lesson_subtitles(lesson_id: int, lang: str) -> Response:
    lesson = viewable_lesson(lesson_id)
    key = next((s["path"] for s in lesson.subtitles or [] if s.get("lang") == lang), None)
    return _serve(key)
