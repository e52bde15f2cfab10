"""Course services: sync from manifests, enrolment, watch progress, hours. Flush, never commit."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from trainer.accounts.models import User
from trainer.clock import utcnow
from trainer.courses import rules
from trainer.courses.manifest import CourseManifest, ManifestError, Problem, discover_courses
from trainer.courses.models import Course, Enrolment, Lesson, LessonProgress, TrainingHours
from trainer.courses.storage import Storage, get_storage, store_by_content
from trainer.db import db

REPO_COURSES = Path(__file__).resolve().parents[2] / "courses"


def courses_root() -> Path:
    return Path(current_app.config.get("COURSES_DIR") or REPO_COURSES)


# Sync ------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    lines: list[str]
    changed: int


def _targets(manifest: CourseManifest) -> tuple[list[str], str | None, list[list[str]]]:
    codes = sorted({t.code for t in manifest.certificate_types})
    purposes = {t.purpose for t in manifest.certificate_types}
    purpose = next(iter(purposes)) if len(purposes) == 1 else None
    pairs = [[t.code, t.purpose] for t in manifest.certificate_types]
    return codes, purpose, pairs


def _digest(manifest: CourseManifest) -> str:
    return hashlib.sha256(manifest.manifest_path.read_bytes()).hexdigest()


def _check_versions(manifests: list[CourseManifest]) -> None:
    problems = []
    for manifest in manifests:
        course = db.session.scalar(sa.select(Course).where(Course.key == manifest.id))
        if course is None:
            continue
        if course.source != "manifest":
            problems.append(Problem(str(manifest.manifest_path), "id",
                                    f"{manifest.id!r} is a course made in the web UI"))
        elif manifest.version < course.version:
            problems.append(Problem(
                str(manifest.manifest_path), "version",
                f"is {manifest.version}, older than version {course.version} already loaded"))
    if problems:
        raise ManifestError(problems)


def sync_courses(root: Path | None = None, storage: Storage | None = None) -> SyncResult:
    """Load every course under ``root`` into the database (and its media into storage).

    Checks every manifest first: any problem raises `ManifestError` and nothing changes in the
    database. Unchanged courses are left alone; a new version updates the course and its
    lessons in place (matched by lesson id), so progress and hours stay.
    """
    manifests = discover_courses(root or courses_root())
    _check_versions(manifests)
    storage = storage or get_storage()
    lines: list[str] = []
    changed = 0
    for manifest in manifests:
        line = _sync_one(manifest, storage)
        if line:
            changed += 1
        lines.append(line or f"course {manifest.id} v{manifest.version}: unchanged")
    db.session.flush()
    return SyncResult(lines, changed)


def _media_present(course: Course, storage: Storage) -> bool:
    keys = []
    for lesson in course.active_lessons:
        keys += [lesson.media_path, lesson.poster or ""]
        keys += [sub.get("path", "") for sub in lesson.subtitles or []]
    return all(key and storage.exists(key) for key in keys)


def _sync_one(manifest: CourseManifest, storage: Storage) -> str | None:
    digest = _digest(manifest)
    course = db.session.scalar(sa.select(Course).where(Course.key == manifest.id))
    if course is not None and course.version == manifest.version \
            and course.source_digest == digest:
        if _media_present(course, storage):
            return None
        restored = True
    else:
        restored = False
    codes, purpose, pairs = _targets(manifest)
    created = course is None
    if course is None:
        course = Course(key=manifest.id, source="manifest")
        db.session.add(course)
    old_version = course.version
    course.version = manifest.version
    course.title_zh, course.title_en = manifest.title.zh_CN, manifest.title.en
    course.description_zh = manifest.description.zh_CN
    course.description_en = manifest.description.en
    course.certificate_types, course.purpose, course.targets = codes, purpose, pairs
    course.hours = Decimal(repr(manifest.hours))
    course.source_digest = digest
    db.session.flush()
    existing = {lesson.key: lesson for lesson in db.session.scalars(
        sa.select(Lesson).where(Lesson.course_id == course.id))}
    shares = rules.split_hours(course.hours, [x.duration_seconds for x in manifest.lessons])
    prefix = f"courses/{manifest.id}"
    for position, (item, hours) in enumerate(zip(manifest.lessons, shares, strict=True)):
        lesson = existing.pop(item.id, None)
        if lesson is None:
            lesson = Lesson(course_id=course.id, key=item.id)
            db.session.add(lesson)
        video_key, video = store_by_content(storage, prefix, manifest.resolve(item.video))
        poster_key, _ = store_by_content(storage, prefix, manifest.resolve(item.poster))
        subtitles = []
        for sub in item.subtitles:
            key, _ = store_by_content(storage, prefix, manifest.resolve(sub.path))
            subtitles.append({"lang": sub.lang, "path": key})
        lesson.position = position
        lesson.title_zh, lesson.title_en = item.title.zh_CN, item.title.en
        lesson.media_path, lesson.media_size = video_key, video.size
        lesson.poster, lesson.subtitles = poster_key, subtitles
        lesson.duration_seconds = item.duration_seconds
        lesson.completion_threshold = item.completion_threshold
        lesson.no_skip = item.seek_locked
        lesson.premiere_at = item.premiere_at
        lesson.hours = hours
        lesson.active = True
    for gone in existing.values():
        gone.active = False
    db.session.flush()
    n = len(manifest.lessons)
    if restored:
        return f"course {manifest.id} v{manifest.version}: missing media copied again"
    if created:
        return f"course {manifest.id} v{manifest.version}: added ({n} lessons)"
    return f"course {manifest.id}: updated v{old_version} → v{manifest.version} ({n} lessons)"


# Enrolment -------------------------------------------------------------------------------


def enrol(user: User, course: Course, by: User | None, due_on: dt.date | None) -> bool:
    """Enrol a worker; True when new. An existing enrolment gets the new due date if given."""
    row = db.session.scalar(sa.select(Enrolment).where(
        Enrolment.user_id == user.id, Enrolment.course_id == course.id))
    if row is not None:
        if due_on is not None:
            row.due_on = due_on
        return False
    db.session.add(Enrolment(user_id=user.id, course_id=course.id,
                             enrolled_by_id=by.id if by else None, due_on=due_on))
    db.session.flush()
    return True


def is_enrolled(user_id: int, course_id: int) -> bool:
    return db.session.scalar(sa.select(Enrolment.id).where(
        Enrolment.user_id == user_id, Enrolment.course_id == course_id)) is not None


def can_view_lesson(user: User, lesson: Lesson) -> bool:
    """Enrolled workers (and employer admins), instructors and admins."""
    if user.role in {"admin", "instructor"}:
        return True
    return lesson.active and is_enrolled(user.id, lesson.course_id)


# Progress --------------------------------------------------------------------------------


def open_progress(user_id: int, lesson: Lesson) -> LessonProgress:
    """The worker's progress row for the lesson, created (the rate anchor) on first open."""
    row = db.session.scalar(sa.select(LessonProgress).where(
        LessonProgress.user_id == user_id, LessonProgress.lesson_id == lesson.id))
    if row is None:
        row = LessonProgress(user_id=user_id, lesson_id=lesson.id, segments=[],
                             created_at=utcnow())
        db.session.add(row)
        db.session.flush()
    return row


def credit_hours(user_id: int, lesson: Lesson) -> TrainingHours | None:
    """Write the lesson's hours into the ledger once; None when already credited."""
    existing = db.session.scalar(sa.select(TrainingHours).where(
        TrainingHours.user_id == user_id, TrainingHours.lesson_id == lesson.id))
    if existing is not None:
        return None
    course = lesson.course
    row = TrainingHours(
        user_id=user_id, course_id=course.id, lesson_id=lesson.id, hours=lesson.hours,
        certificate_types=list(course.certificate_types or []), purpose=course.purpose,
        targets=[list(p) for p in course.targets or []], course_version=course.version,
        credited_at=utcnow())
    db.session.add(row)
    db.session.flush()
    from trainer.signals import hours_credited

    hours_credited.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        user_id=user_id, course_key=course.key, lesson_key=lesson.key,
        hours=Decimal(lesson.hours), certificate_types=list(course.certificate_types or []),
        purpose=course.purpose or "")
    return row


@dataclass
class ReportResult:
    outcome: rules.Outcome
    progress: LessonProgress
    credited: TrainingHours | None


def live_offset(lesson: Lesson, now: dt.datetime) -> float | None:
    state = rules.premiere_state(lesson.premiere_at, lesson.duration_seconds, now)
    return state.offset if state.phase == rules.LIVE else None


def not_started(lesson: Lesson, now: dt.datetime) -> bool:
    phase = rules.premiere_state(lesson.premiere_at, lesson.duration_seconds, now).phase
    return phase == rules.UPCOMING


def lesson_for_report(user: User, lesson_id: int) -> tuple[Lesson | None, LessonProgress | None]:
    """The lesson and the caller's progress row (locked), or (None, None) when they may not
    watch it. One query in the usual case: a worker reporting on a lesson they opened."""
    query = (sa.select(LessonProgress, Lesson).join(Lesson, LessonProgress.lesson_id == Lesson.id)
             .where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson_id))
    if user.role not in {"admin", "instructor"}:
        query = query.where(Lesson.active.is_(True), sa.exists().where(
            Enrolment.user_id == user.id, Enrolment.course_id == Lesson.course_id))
    found = db.session.execute(query.with_for_update(of=LessonProgress)).first()
    if found is not None:
        return found[1], found[0]
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        return None, None
    row = progress_for_report(user, lesson)
    return (lesson, row) if row is not None else (None, None)


def progress_for_report(user: User, lesson: Lesson) -> LessonProgress | None:
    """The caller's progress row, locked for update; None when they may not watch the lesson.

    One query in the usual case (a worker who opened the lesson): the enrolment check rides on
    the row lookup.
    """
    query = sa.select(LessonProgress).where(
        LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
    staff = user.role in {"admin", "instructor"}
    if not staff:
        if not lesson.active:
            return None
        query = query.where(sa.exists().where(Enrolment.user_id == user.id,
                                              Enrolment.course_id == lesson.course_id))
    row = db.session.scalar(query.with_for_update())
    if row is not None:
        return row
    if not staff and not is_enrolled(user.id, lesson.course_id):
        return None
    return open_progress(user.id, lesson)


def report_progress(user: User, lesson: Lesson, segments: list[rules.Interval], position: float,
                    now: dt.datetime | None = None,
                    row: LessonProgress | None = None) -> ReportResult:
    """Apply one player report (see `rules.evaluate_report`); flushes, credits hours once.

    ``row`` is the caller's progress row from `progress_for_report` (looked up when omitted).
    """
    now = now or utcnow()
    if row is None:
        row = progress_for_report(user, lesson) or open_progress(user.id, lesson)
    state = rules.WatchState(
        segments=tuple((float(a), float(b)) for a, b in row.segments or []),
        furthest=row.furthest_position or 0.0, completed=row.completed_at is not None)
    outcome = rules.evaluate_report(
        state, rules.Report(tuple(segments), position),
        duration=lesson.duration_seconds, threshold=lesson.completion_threshold,
        no_skip=lesson.no_skip, anchor=row.last_report_at or row.created_at, now=now,
        live_offset=live_offset(lesson, now), not_started=not_started(lesson, now))
    credited = None
    if outcome.accepted:
        row.segments = [[round(a, 3), round(b, 3)] for a, b in outcome.segments]
        row.watched_seconds = round(outcome.watched_seconds, 3)
        row.furthest_position = round(outcome.furthest, 3)
        row.last_position = round(outcome.position, 3)
        row.last_report_at = now
        if outcome.newly_completed:
            row.completed_at = now
        if outcome.completed and user.role == "worker" \
                and is_enrolled(user.id, lesson.course_id):
            credited = credit_hours(user.id, lesson)
        db.session.flush()
    return ReportResult(outcome, row, credited)


def progress_json(lesson: Lesson, row: LessonProgress | None,
                  now: dt.datetime | None = None) -> dict[str, object]:
    """What the player needs: where to resume, what counts, and the premiere clock."""
    now = now or utcnow()
    premiere = rules.premiere_state(lesson.premiere_at, lesson.duration_seconds, now)
    watched = row.watched_seconds if row else 0.0
    furthest = row.furthest_position if row else 0.0
    last = row.last_position if row else 0.0
    return {
        "lesson_id": lesson.id,
        "duration": lesson.duration_seconds,
        "threshold": lesson.completion_threshold,
        "no_skip": lesson.no_skip,
        "segments": [list(s) for s in (row.segments if row else [])],
        "watched_seconds": watched,
        "watched_share": round(min(1.0, watched / lesson.duration_seconds), 4),
        "furthest_position": furthest,
        "last_position": last,
        "resume_position": rules.resume_position(last, furthest, lesson.duration_seconds,
                                                 lesson.no_skip),
        "completed": bool(row and row.completed_at),
        "completed_at": row.completed_at.isoformat() if row and row.completed_at else None,
        "hours": str(lesson.hours),
        "premiere": {"phase": premiere.phase,
                     "at": lesson.premiere_at.isoformat() if lesson.premiere_at else None,
                     "seconds_until": round(premiere.seconds_until, 3),
                     "offset": round(premiere.offset, 3)},
        "server_time": now.isoformat(),
        "report_interval": 15,
    }


def count_visit(lesson: Lesson) -> None:
    db.session.execute(sa.update(Lesson).where(Lesson.id == lesson.id)
                       .values(visits=Lesson.visits + 1))


def live_viewers(lesson_id: int, now: dt.datetime | None = None) -> int:
    now = now or utcnow()
    since = now - dt.timedelta(seconds=rules.LIVE_WINDOW_SECONDS)
    return db.session.scalar(sa.select(sa.func.count()).select_from(LessonProgress).where(
        LessonProgress.lesson_id == lesson_id, LessonProgress.last_report_at >= since)) or 0


# Pages -----------------------------------------------------------------------------------


def progress_by_lesson(user_id: int, course: Course) -> dict[int, LessonProgress]:
    ids = [lesson.id for lesson in course.lessons]
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(LessonProgress).where(
        LessonProgress.user_id == user_id, LessonProgress.lesson_id.in_(ids)))
    return {row.lesson_id: row for row in rows}


def hours_earned(user_id: int, course_id: int) -> Decimal:
    value = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(TrainingHours.hours), 0))
                              .where(TrainingHours.user_id == user_id,
                                     TrainingHours.course_id == course_id))
    return Decimal(value or 0)


@dataclass
class CourseSummary:
    course: Course
    enrolment: Enrolment | None
    lessons_done: int
    lessons_total: int
    hours_earned: Decimal

    @property
    def complete(self) -> bool:
        return self.lessons_total > 0 and self.lessons_done >= self.lessons_total

    def due_state(self, today: dt.date) -> str:
        """``done``, ``overdue``, ``due_soon`` (within 7 days), ``due`` or ``open``."""
        if self.complete:
            return "done"
        due = self.enrolment.due_on if self.enrolment else None
        if due is None:
            return "open"
        if due < today:
            return "overdue"
        return "due_soon" if (due - today).days <= 7 else "due"


def summarise(user_id: int, course: Course, enrolment: Enrolment | None) -> CourseSummary:
    progress = progress_by_lesson(user_id, course)
    active = course.active_lessons
    done = sum(1 for lesson in active
               if (row := progress.get(lesson.id)) is not None and row.completed_at)
    return CourseSummary(course, enrolment, done, len(active), hours_earned(user_id, course.id))


def my_courses(user_id: int) -> list[CourseSummary]:
    rows = db.session.execute(sa.select(Enrolment, Course).join(Course)
                              .where(Enrolment.user_id == user_id)).all()
    out = [summarise(user_id, course, enrolment) for enrolment, course in rows]
    far = dt.date.max
    out.sort(key=lambda s: (s.complete, (s.enrolment.due_on if s.enrolment else None) or far,
                            s.course.key))
    return out


# Enrolment by employer / certificate type ------------------------------------------------


class CertificatesUnavailable(Exception):
    """The certificates area (holders of each certificate type) is not installed."""


def workers_query(actor: User) -> sa.Select[User]:
    """Active workers the actor may enrol: all for admins, own employer for employer admins."""
    query = sa.select(User).where(User.role == "worker", User.active.is_(True))
    if actor.role != "admin":
        query = query.where(User.employer_id == actor.employer_id)
    return query


def workers_holding(actor: User, type_code: str) -> list[User]:
    """Workers holding a certificate of ``type_code`` (``1`` covers ``1`` and ``1.*``)."""
    try:
        from trainer.certificates.models import Certificate
        holder = Certificate.holder_user_id
        code = Certificate.type_code
    except (ImportError, AttributeError) as exc:
        raise CertificatesUnavailable from exc
    ids = sa.select(holder).where(sa.or_(code == type_code, code.like(f"{type_code}.%")))
    for name in ("revoked_on",):  # a revoked certificate holds nothing
        column = getattr(Certificate, name, None)
        if column is not None:
            ids = ids.where(column.is_(None))
    superseded = getattr(Certificate, "superseded", None)
    if superseded is not None:
        ids = ids.where(superseded.is_(False))
    return list(db.session.scalars(workers_query(actor).where(User.id.in_(ids))
                                   .order_by(User.id)))


def enrol_many(users: list[User], course: Course, by: User,
               due_on: dt.date | None) -> tuple[int, int]:
    """Enrol each user; returns (newly enrolled, already enrolled)."""
    new = sum(1 for user in users if enrol(user, course, by, due_on))
    return new, len(users) - new


def ledger_rows(actor: User) -> sa.Select[TrainingHours, User, Course, Lesson]:
    query = (sa.select(TrainingHours, User, Course, Lesson)
             .join(User, TrainingHours.user_id == User.id)
             .join(Course, TrainingHours.course_id == Course.id)
             .join(Lesson, TrainingHours.lesson_id == Lesson.id)
             .order_by(TrainingHours.credited_at, TrainingHours.id))
    if actor.role != "admin":
        query = query.where(User.employer_id == actor.employer_id)
    return query


@dataclass
class Requirement:
    type_code: str
    purpose: str
    earned: Decimal
    required: Decimal | None


def requirements(user_id: int, course: Course) -> list[Requirement]:
    """For each (certificate type, purpose) the course counts toward: hours earned in the
    worker's ledger and hours the catalogue requires (None when not recorded)."""
    from trainer.courses.hours import credited_hours

    required: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    try:
        from trainer.certificates.models import CertificateType

        codes = [pair[0] for pair in course.targets or []]
        for row in db.session.scalars(sa.select(CertificateType)
                                      .where(CertificateType.code.in_(codes))):
            required[row.code] = (row.initial_hours, row.review_hours)
    except ImportError:  # the certificates area is not installed
        pass
    out = []
    for code, purpose in (tuple(pair) for pair in course.targets or []):
        initial, review = required.get(code, (None, None))
        need = initial if purpose == "initial" else review
        out.append(Requirement(code, purpose, credited_hours(user_id, code, purpose),
                               Decimal(need) if need is not None else None))
    return out


# A new training round --------------------------------------------------------------------


def restart_course(user_id: int, course_key: str, reason: str = "",
                   actor: User | None = None) -> int:
    """Start a new training round: clear the worker's watch progress on the course's lessons
    (segments, positions, completion) so every lesson must be watched again.

    The hours ledger is never touched: hours earned stay earned, and a lesson completed again is
    not credited twice (``credit_hours`` writes one row per worker and lesson). Returns the number
    of progress rows reset (0 when the course is unknown or nothing was watched); audited when
    something was reset."""
    course = db.session.scalar(sa.select(Course).where(Course.key == course_key))
    if course is None:
        return 0
    lesson_ids = sa.select(Lesson.id).where(Lesson.course_id == course.id)
    rows = list(db.session.scalars(
        sa.select(LessonProgress).where(LessonProgress.user_id == user_id,
                                        LessonProgress.lesson_id.in_(lesson_ids))
        .order_by(LessonProgress.lesson_id).with_for_update()))
    completed = sum(1 for row in rows if row.completed_at is not None)
    for row in rows:
        row.segments = []
        row.watched_seconds = 0.0
        row.furthest_position = 0.0
        row.last_position = 0.0
        row.completed_at = None
    db.session.flush()
    if rows:
        from trainer.audit import services as audit

        worker = db.session.get(User, user_id)
        audit.record(actor, "course.restart", "course", course.id,
                     before={"user_id": user_id, "lessons_completed": completed},
                     after={"user_id": user_id, "lessons_completed": 0, "reason": reason},
                     employer_id=worker.employer_id if worker else None)
    return len(rows)
