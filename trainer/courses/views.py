"""Course pages and lesson media (/courses/...)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from trainer.auth import require
from trainer.clock import today, utcnow
from trainer.courses import rules, services
from trainer.courses.delivery import media_response
from trainer.courses.models import Course, Lesson
from trainer.courses.storage import StorageError, get_storage
from trainer.db import db

bp = Blueprint("courses", __name__, url_prefix="/courses", template_folder="templates")

STAFF_ROLES = {"admin", "instructor"}


@bp.app_template_filter("hours")
def format_hours(value: object) -> str:
    """Training hours to at most two places, without trailing zeros (8, 0.5, 0.09)."""
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return ""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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


def viewable_course(key: str) -> Course:
    course = db.session.scalar(sa.select(Course).where(Course.key == key))
    if course is None:
        abort(404)
    if current_user.role not in STAFF_ROLES and not services.is_enrolled(current_user.id,
                                                                         course.id):
        abort(404)
    return course


@bp.route("/")
@require()
def index() -> str:
    mine = services.my_courses(current_user.id)
    catalogue: list[Course] = []
    if current_user.role != "worker":
        catalogue = list(db.session.scalars(sa.select(Course).order_by(Course.key)))
    return render_template("courses/index.html", mine=mine, catalogue=catalogue, today=today())


def _outline(course: Course) -> list[dict[str, object]]:
    progress = services.progress_by_lesson(current_user.id, course)
    out = []
    for lesson in course.active_lessons:
        row = progress.get(lesson.id)
        share = min(1.0, row.watched_seconds / lesson.duration_seconds) if row else 0.0
        out.append({"lesson": lesson, "share": share,
                    "completed": bool(row and row.completed_at)})
    return out


def _requirements(course: Course) -> list[services.Requirement]:
    if current_user.role != "worker":
        return []
    return services.requirements(current_user.id, course)


@bp.route("/<key>")
@require()
def course_page(key: str) -> str:
    course = viewable_course(key)
    return render_template(
        "courses/course.html", course=course, outline=_outline(course),
        earned=services.hours_earned(current_user.id, course.id),
        requirements=_requirements(course))


@bp.route("/lessons/<int:lesson_id>")
@require()
def lesson_page(lesson_id: int) -> str:
    lesson = viewable_lesson(lesson_id)
    course = lesson.course
    row = services.open_progress(current_user.id, lesson)
    services.count_visit(lesson)
    now = utcnow()
    state = services.progress_json(lesson, row, now)
    db.session.commit()
    lessons = course.active_lessons
    index = next((i for i, x in enumerate(lessons) if x.id == lesson.id), 0)
    player = {
        "lesson": lesson.id,
        "user": current_user.id,
        "progressUrl": f"/api/v1/lessons/{lesson.id}/progress",
        "state": state,
        "text": {
            "watched": _("Watched %(share)s; %(need)s needed to complete",
                         share="{share}", need="{need}"),
            "completed": _("Completed: training hours credited"),
            "offline": _("Connection lost: your progress is kept on this phone and sent "
                         "when you are back online."),
            "noSkip": _("You cannot skip ahead of what you have watched."),
            "saved": _("Progress saved"),
            "live": _("Live now"),
        },
    }
    return render_template(
        "courses/lesson.html", lesson=lesson, course=course, outline=_outline(course),
        earned=services.hours_earned(current_user.id, course.id), state=state, player=player,
        requirements=_requirements(course),
        previous=lessons[index - 1] if index > 0 else None,
        next=lessons[index + 1] if index + 1 < len(lessons) else None,
        premiere=rules.premiere_state(lesson.premiere_at, lesson.duration_seconds, now),
        viewers=services.live_viewers(lesson.id, now) if current_user.role == "admin" else None)


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
    lesson = viewable_lesson(lesson_id)
    if current_user.role not in STAFF_ROLES and services.not_started(lesson, utcnow()):
        abort(403)  # the premiere has not started: nobody watches ahead of it
    return _serve(lesson.media_path)


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
