"""Exam pages: the worker's exam list, the exam page, results, the wrong-answer book, and the
instructor's exam definitions."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory
from werkzeug.wrappers import Response

from trainer.auth import public

bp = Blueprint("exams", __name__, url_prefix="/exams", template_folder="templates")

STATIC = Path(__file__).parent / "static"


@bp.route("/static/<path:filename>")
@public
def static_file(filename: str) -> Response:
    """The exam page's script (served here so the area keeps its own static folder)."""
    return send_from_directory(STATIC, filename, max_age=300)
