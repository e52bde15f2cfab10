"""Watch progress over the API: /api/v1/lessons/<id>/progress (session or bearer token)."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from trainer.api import json_body, make_blueprint
from trainer.api.openapi import error_responses, json_content
from trainer.auth import require
from trainer.clock import utcnow
from trainer.courses import rules, services
from trainer.courses.models import Lesson
from trainer.db import db
from trainer.errors import api_error

bp = make_blueprint("courses_api", __name__)


def _lesson(lesson_id: int) -> Lesson | None:
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None or not services.can_view_lesson(current_user, lesson):
        return None
    return lesson


@bp.get("/lessons/<int:lesson_id>/progress")
@require()
def get_progress(lesson_id: int) -> Any:
    lesson = _lesson(lesson_id)
    if lesson is None:
        return api_error(404, _("Not found."))
    row = services.open_progress(current_user.id, lesson)
    services.count_visit(lesson)
    data = services.progress_json(lesson, row)
    db.session.commit()
    return jsonify(data)


@bp.post("/lessons/<int:lesson_id>/progress")
@require()
def post_progress(lesson_id: int) -> Any:
    lesson, row = services.lesson_for_report(current_user, lesson_id)
    if lesson is None or row is None:
        return api_error(404, _("Not found."))
    data = json_body()
    position = data.get("position", 0)
    if isinstance(position, bool) or not isinstance(position, int | float) \
            or not 0 <= position <= lesson.duration_seconds + rules.SKIP_TOLERANCE_SECONDS:
        return api_error(422, _("position must be a number of seconds within the video."),
                         "invalid", {"field": "position"})
    try:
        segments = rules.parse_segments(data.get("segments", []), lesson.duration_seconds)
    except rules.ReportError as exc:
        return api_error(422, _("The watched segments are not valid: %(reason)s",
                                reason=str(exc)), "invalid", {"field": "segments"})
    now = utcnow()
    result = services.report_progress(current_user, lesson, segments, float(position), now, row)
    body = services.progress_json(lesson, result.progress, now)
    body["accepted"] = result.outcome.accepted
    body["reason"] = result.outcome.reason
    body["refused"] = [list(x) for x in result.outcome.refused]
    body["credited_hours"] = str(result.credited.hours) if result.credited else None
    db.session.commit()
    if result.outcome.reason == rules.NOT_STARTED:
        return api_error(409, _("The premiere has not started yet; nothing was recorded."),
                         rules.NOT_STARTED, body)
    if not result.outcome.accepted:
        return api_error(409, _("More footage was reported than time has passed since the last "
                                "report; nothing was recorded. Keep the segments and send them "
                                "again later."), result.outcome.reason, body)
    return jsonify(body)


LESSON_ID = [{"name": "lesson_id", "in": "path", "required": True,
              "schema": {"type": "integer"}}]
INTERVAL = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
PROGRESS = {
    "type": "object",
    "properties": {
        "lesson_id": {"type": "integer"},
        "duration": {"type": "number", "description": "Seconds"},
        "threshold": {"type": "number", "description": "Share of the video to watch (0-1]"},
        "no_skip": {"type": "boolean"},
        "segments": {"type": "array", "items": INTERVAL,
                     "description": "Union of watched [start, end] seconds, merged"},
        "watched_seconds": {"type": "number"},
        "watched_share": {"type": "number"},
        "furthest_position": {"type": "number"},
        "last_position": {"type": "number"},
        "resume_position": {"type": "number"},
        "completed": {"type": "boolean"},
        "completed_at": {"type": ["string", "null"], "format": "date-time"},
        "hours": {"type": "string", "description": "Training hours the lesson is worth"},
        "premiere": {"type": "object", "properties": {
            "phase": {"type": "string", "enum": ["on_demand", "upcoming", "live", "replay"]},
            "at": {"type": ["string", "null"], "format": "date-time"},
            "seconds_until": {"type": "number"},
            "offset": {"type": "number", "description": "Live position while live"}}},
        "server_time": {"type": "string", "format": "date-time"},
        "report_interval": {"type": "integer", "description": "Seconds between reports"},
        "accepted": {"type": "boolean"},
        "reason": {"type": ["string", "null"],
                   "enum": [None, "too_fast", "skipped_ahead", "ahead_of_live",
                            "not_started"]},
        "refused": {"type": "array", "items": INTERVAL},
        "credited_hours": {"type": ["string", "null"]},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/lessons/{lesson_id}/progress": {
        "get": {
            "summary": "Open a lesson: the caller's watch progress, resume point and premiere "
                       "clock (counts a visit; starts the watch-rate clock on first open)",
            "parameters": LESSON_ID,
            "responses": {"200": {"description": "Progress", "content": json_content(PROGRESS)},
                          **error_responses(401, 404)},
        },
        "post": {
            "summary": "Report watched segments (every 15 s and on pause/leave)",
            "description": (
                "Session callers send the X-CSRFToken header. The server keeps the union of "
                "watched segments. A report adding more new footage than the wall-clock time "
                "since the last accepted report allows (1x, small tolerance) is refused whole "
                "with 409 too_fast: keep the segments and send them again, merged with newer "
                "ones. Segments of a no-skip lesson that start past the furthest watched point "
                "are not credited (reason skipped_ahead, listed in refused). A lesson is "
                "complete when the watched share reaches its threshold; its hours are then "
                "credited once. Before a lesson's premiere, reports are refused (409 "
                "not_started); during it, segments may start at the live position but not run "
                "ahead of it (ahead_of_live)."),
            "parameters": LESSON_ID,
            "requestBody": {"required": True, "content": json_content({
                "type": "object", "required": ["segments", "position"],
                "properties": {
                    "segments": {"type": "array", "items": INTERVAL, "maxItems": 100},
                    "position": {"type": "number", "description": "Current playhead, seconds"},
                    "event": {"type": "string", "enum": ["tick", "pause", "leave", "ended"]}}})},
            "responses": {"200": {"description": "Recorded", "content": json_content(PROGRESS)},
                          **error_responses(400, 401, 404, 409, 422)},
        },
    },
}
