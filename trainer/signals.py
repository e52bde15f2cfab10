"""Events one area announces and another reacts to, so areas do not import each other.

Receivers are connected by the reacting area when the app is built (never at import time).
Every signal is sent inside the request or command that made the change, before it commits, so
what a receiver writes commits (or rolls back) with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: A worker passed a formal exam. Sender: the Flask app. Keyword arguments:
#: ``user_id`` (int), ``certificate_type`` (catalogue code, e.g. "1.2" or "SM"; may be ""),
#: ``passed_on`` (``datetime.date``, local date), ``attempt_id`` (int), ``score`` (int 0-100).
exam_passed = _signals.signal("exam-passed")

#: A worker completed a lesson and was credited training hours. Sender: the Flask app. Keyword
#: arguments: ``user_id`` (int), ``course_key`` (str), ``lesson_key`` (str), ``hours``
#: (``decimal.Decimal``), ``certificate_types`` (list of codes), ``purpose``
#: ("initial" or "review").
hours_credited = _signals.signal("hours-credited")
