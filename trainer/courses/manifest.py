"""Read and validate course manifests (``courses/<folder>/course.toml``); see courses/README.md.

Pure: no Flask, no database, no clock. A manifest is checked completely before anything is
returned; every problem is collected into one `ManifestError` whose lines read
``<file>: <field path>: <reason>``, e.g. ``courses/x/course.toml: lessons[2].video: file not
found`` (list indexes count from 0, as in the field paths of JSON tools).
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from trainer.courses.webvtt import WebVTTError, parse_webvtt

MANIFEST_NAME = "course.toml"
DEFAULT_COMPLETION_THRESHOLD = 0.95
DEFAULT_SEEK_LOCKED = True

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX = 64
CERTIFICATE_CODE = re.compile(r"[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*")
LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")
PURPOSES = ("initial", "review")
VIDEO_SUFFIXES = frozenset({".mp4"})
SUBTITLE_SUFFIXES = frozenset({".vtt"})
POSTER_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp"})
LOCALES = ("zh_CN", "en")
SUBTITLE_OVERRUN_SECONDS = 0.5
"""A last cue may end this much after duration_seconds (durations are rounded)."""

Purpose = Literal["initial", "review"]


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        if not self.field:
            return f"{self.file}: {self.reason}"
        return f"{self.file}: {self.field}: {self.reason}"


class ManifestError(Exception):
    """One or more problems in one or more manifests; `problems` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class LocalizedText:
    zh_CN: str
    en: str

    def get(self, locale: str) -> str:
        """The text in ``locale`` (``zh_CN``, ``zh-CN``, ``en``, ``en_US``…), else Chinese."""
        return self.en if locale.replace("-", "_").split("_")[0] == "en" else self.zh_CN


@dataclass(frozen=True)
class CertificateTarget:
    """A certificate type whose training (initial or review) this course counts toward."""

    code: str
    purpose: Purpose


@dataclass(frozen=True)
class Subtitle:
    lang: str
    path: str
    """Relative to the course folder, with forward slashes."""


@dataclass(frozen=True)
class Lesson:
    id: str
    title: LocalizedText
    video: str
    """Relative to the course folder, with forward slashes (as are `poster` and subtitles)."""
    poster: str
    duration_seconds: float
    subtitles: tuple[Subtitle, ...] = ()
    completion_threshold: float = DEFAULT_COMPLETION_THRESHOLD
    seek_locked: bool = DEFAULT_SEEK_LOCKED
    premiere_at: datetime | None = None
    """When set: the scheduled live premiere, timezone-aware, in UTC; replay afterwards."""


@dataclass(frozen=True)
class CourseManifest:
    id: str
    version: int
    title: LocalizedText
    description: LocalizedText
    certificate_types: tuple[CertificateTarget, ...]
    hours: float
    lessons: tuple[Lesson, ...]
    manifest_path: Path = field(compare=False)
    """The course.toml this was read from; relative paths in it resolve against its folder."""

    @property
    def directory(self) -> Path:
        return self.manifest_path.parent

    def resolve(self, relative: str) -> Path:
        """A file path named in the manifest (video, poster, subtitles) as a filesystem path."""
        return self.directory.joinpath(*PurePosixPath(relative).parts)

    @property
    def duration_seconds(self) -> float:
        return sum(lesson.duration_seconds for lesson in self.lessons)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((x for x in self.lessons if x.id == lesson_id), None)


class _Checker:
    """Reads one parsed manifest, noting problems instead of stopping at the first."""

    def __init__(self, file: str, directory: Path) -> None:
        self.file = file
        self.directory = directory
        self.problems: list[Problem] = []

    def fail(self, path: str, reason: str) -> None:
        self.problems.append(Problem(self.file, path, reason))

    def keys(self, table: dict[str, Any], path: str, allowed: tuple[str, ...]) -> None:
        for key in table:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.fail(where, f"unknown field (expected one of: {', '.join(allowed)})")

    def table(self, parent: dict[str, Any], key: str, path: str) -> dict[str, Any] | None:
        if key not in parent:
            self.fail(path, "missing")
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.fail(path, f"must be a table, got {_kind(value)}")
            return None
        return value

    def text(self, parent: dict[str, Any], key: str, path: str) -> str | None:
        if key not in parent:
            self.fail(path, "missing")
            return None
        value = parent[key]
        if not isinstance(value, str):
            self.fail(path, f"must be a string, got {_kind(value)}")
            return None
        if not value.strip():
            self.fail(path, "must not be empty")
            return None
        return value.strip()

    def localized(self, parent: dict[str, Any], key: str, path: str) -> LocalizedText | None:
        table = self.table(parent, key, path)
        if table is None:
            return None
        self.keys(table, path, LOCALES)
        zh = self.text(table, "zh_CN", f"{path}.zh_CN")
        en = self.text(table, "en", f"{path}.en")
        return LocalizedText(zh, en) if zh is not None and en is not None else None

    def slug(self, parent: dict[str, Any], key: str, path: str) -> str | None:
        value = self.text(parent, key, path)
        if value is None:
            return None
        if len(value) > SLUG_MAX or not SLUG.fullmatch(value):
            self.fail(
                path,
                f"{value!r} is not a slug (lowercase letters, digits and single hyphens, "
                f"at most {SLUG_MAX} characters)",
            )
            return None
        return value

    def number(
        self,
        parent: dict[str, Any],
        key: str,
        path: str,
        *,
        default: float | None = None,
        low: float = 0.0,
        high: float = math.inf,
        low_inclusive: bool = False,
    ) -> float | None:
        if key not in parent:
            if default is None:
                self.fail(path, "missing")
            return default
        value = parent[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"must be a number, got {_kind(value)}")
            return None
        number = float(value)
        too_low = number < low if low_inclusive else number <= low
        if not math.isfinite(number) or too_low or number > high:
            bound = f"{'≥' if low_inclusive else '>'} {low:g}"
            bound += f" and ≤ {high:g}" if math.isfinite(high) else ""
            self.fail(path, f"must be a number {bound}, got {value!r}")
            return None
        return number

    def file_path(
        self, parent: dict[str, Any], key: str, path: str, suffixes: frozenset[str]
    ) -> str | None:
        value = self.text(parent, key, path)
        if value is None:
            return None
        rel = PurePosixPath(value)
        if "\\" in value or rel.is_absolute() or ".." in rel.parts:
            self.fail(
                path,
                f"{value!r} must be a relative path inside the course folder, with forward slashes",
            )
            return None
        if rel.suffix.lower() not in suffixes:
            self.fail(path, f"{value!r} must end in {' or '.join(sorted(suffixes))}")
            return None
        target = self.directory.joinpath(*rel.parts)
        if not target.is_file():
            self.fail(path, f"file not found: {value}")
            return None
        if not target.resolve().is_relative_to(self.directory.resolve()):
            self.fail(path, f"{value!r} leads outside the course folder")
            return None
        return rel.as_posix()

    def premiere(self, lesson: dict[str, Any], path: str) -> datetime | None:
        if "premiere_at" not in lesson:
            return None
        value = lesson["premiere_at"]
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                self.fail(path, f"{value!r} is not an ISO 8601 date-time")
                return None
        if not isinstance(value, datetime):
            kind = "a date without a time" if isinstance(value, date) else _kind(value)
            if isinstance(value, time):
                kind = "a time without a date"
            self.fail(path, f"must be a date-time with a UTC offset, got {kind}")
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail(path, f"{value.isoformat()} has no UTC offset (write e.g. +08:00)")
            return None
        return value.astimezone(UTC)

    def certificate_types(self, data: dict[str, Any]) -> tuple[CertificateTarget, ...]:
        raw = data.get("certificate_types")
        if raw is None:
            self.fail("certificate_types", "missing")
            return ()
        if not isinstance(raw, list) or not raw:
            self.fail("certificate_types", "must be a non-empty list of {code, purpose} tables")
            return ()
        found: list[CertificateTarget] = []
        for i, item in enumerate(raw):
            path = f"certificate_types[{i}]"
            if not isinstance(item, dict):
                self.fail(path, f"must be a table {{code, purpose}}, got {_kind(item)}")
                continue
            self.keys(item, path, ("code", "purpose"))
            code = self.text(item, "code", f"{path}.code")
            if code is not None and not CERTIFICATE_CODE.fullmatch(code):
                self.fail(f"{path}.code", f"{code!r} is not a certificate type code (e.g. SM, 1.2)")
                code = None
            purpose = self.text(item, "purpose", f"{path}.purpose")
            if purpose is not None and purpose not in PURPOSES:
                self.fail(f"{path}.purpose", f"{purpose!r} must be one of: {', '.join(PURPOSES)}")
                purpose = None
            if code is None or purpose is None:
                continue
            target = CertificateTarget(code, "initial" if purpose == "initial" else "review")
            if target in found:
                self.fail(path, f"{code} {purpose} is listed twice")
                continue
            found.append(target)
        return tuple(found)

    def subtitle_cues(self, file: str, path: str, duration: float | None) -> None:
        """Check that a subtitle file is WebVTT whose cues fit in the lesson's duration."""
        try:
            text = self.directory.joinpath(*PurePosixPath(file).parts).read_text("utf-8")
            cues = parse_webvtt(text)
        except UnicodeDecodeError:
            self.fail(path, f"{file}: not UTF-8 text")
            return
        except OSError as exc:
            self.fail(path, f"{file}: cannot read: {exc.strerror or exc}")
            return
        except WebVTTError as exc:
            self.fail(path, f"{file}: {exc}")
            return
        if not cues:
            self.fail(path, f"{file}: has no cues")
            return
        last = max(cues, key=lambda cue: cue.end)
        if duration is not None and last.end > duration + SUBTITLE_OVERRUN_SECONDS:
            self.fail(
                path,
                f"{file}: line {last.line}: cue ends at {last.end:.3f} s, after the end of the "
                f"video ({duration:g} s in duration_seconds)",
            )

    def subtitles(
        self, lesson: dict[str, Any], path: str, duration: float | None
    ) -> tuple[Subtitle, ...]:
        raw = lesson.get("subtitles", [])
        if not isinstance(raw, list):
            self.fail(path, f"must be a list of {{lang, path}} tables, got {_kind(raw)}")
            return ()
        found: list[Subtitle] = []
        for i, item in enumerate(raw):
            here = f"{path}[{i}]"
            if not isinstance(item, dict):
                self.fail(here, f"must be a table {{lang, path}}, got {_kind(item)}")
                continue
            self.keys(item, here, ("lang", "path"))
            lang = self.text(item, "lang", f"{here}.lang")
            if lang is not None and not LANGUAGE_TAG.fullmatch(lang):
                self.fail(f"{here}.lang", f"{lang!r} is not a language tag like zh-CN")
                lang = None
            if lang is not None and any(s.lang == lang for s in found):
                self.fail(f"{here}.lang", f"{lang} is listed twice")
                lang = None
            file = self.file_path(item, "path", f"{here}.path", SUBTITLE_SUFFIXES)
            if file is not None:
                self.subtitle_cues(file, f"{here}.path", duration)
            if lang is not None and file is not None:
                found.append(Subtitle(lang, file))
        return tuple(found)

    def lesson(self, item: object, i: int) -> Lesson | None:
        path = f"lessons[{i}]"
        if not isinstance(item, dict):
            self.fail(path, f"must be a table, got {_kind(item)}")
            return None
        before = len(self.problems)
        self.keys(item, path, LESSON_FIELDS)
        lesson_id = self.slug(item, "id", f"{path}.id")
        title = self.localized(item, "title", f"{path}.title")
        video = self.file_path(item, "video", f"{path}.video", VIDEO_SUFFIXES)
        duration = self.number(item, "duration_seconds", f"{path}.duration_seconds")
        subtitles = self.subtitles(item, f"{path}.subtitles", duration)
        poster = self.file_path(item, "poster", f"{path}.poster", POSTER_SUFFIXES)
        threshold = self.number(
            item, "completion_threshold", f"{path}.completion_threshold",
            default=DEFAULT_COMPLETION_THRESHOLD, high=1.0,
        )  # fmt: skip
        seek_locked = item.get("seek_locked", DEFAULT_SEEK_LOCKED)
        if not isinstance(seek_locked, bool):
            self.fail(f"{path}.seek_locked", f"must be true or false, got {_kind(seek_locked)}")
        premiere_at = self.premiere(item, f"{path}.premiere_at")
        if len(self.problems) > before:
            return None
        assert lesson_id and title and video and poster and duration and threshold
        return Lesson(
            id=lesson_id,
            title=title,
            video=video,
            poster=poster,
            duration_seconds=duration,
            subtitles=subtitles,
            completion_threshold=threshold,
            seek_locked=bool(seek_locked),
            premiere_at=premiere_at,
        )

    def manifest(self, data: dict[str, Any], manifest_path: Path) -> CourseManifest | None:
        self.keys(data, "", COURSE_FIELDS)
        course_id = self.slug(data, "id", "id")
        version = data.get("version")
        if version is None:
            self.fail("version", "missing")
        elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
            self.fail("version", f"must be a whole number ≥ 1, got {version!r}")
        title = self.localized(data, "title", "title")
        description = self.localized(data, "description", "description")
        certificate_types = self.certificate_types(data)
        hours = self.number(data, "hours", "hours")
        lessons: list[Lesson] = []
        raw_lessons = data.get("lessons")
        if raw_lessons is None:
            self.fail("lessons", "missing (add at least one [[lessons]] table)")
        elif not isinstance(raw_lessons, list) or not raw_lessons:
            self.fail("lessons", "must be a non-empty array of [[lessons]] tables")
        else:
            seen: dict[str, int] = {}
            for i, item in enumerate(raw_lessons):
                lesson = self.lesson(item, i)
                if lesson is None:
                    continue
                if lesson.id in seen:
                    first = seen[lesson.id]
                    self.fail(f"lessons[{i}].id", f"{lesson.id!r} is already lessons[{first}]")
                    continue
                seen[lesson.id] = i
                lessons.append(lesson)
        if self.problems:
            return None
        assert course_id and title and description and hours and isinstance(version, int)
        return CourseManifest(
            id=course_id,
            version=version,
            title=title,
            description=description,
            certificate_types=certificate_types,
            hours=hours,
            lessons=tuple(lessons),
            manifest_path=manifest_path,
        )


COURSE_FIELDS = (
    "id", "version", "title", "description", "certificate_types", "hours", "lessons",
)  # fmt: skip
LESSON_FIELDS = (
    "id", "title", "video", "subtitles", "poster", "duration_seconds",
    "completion_threshold", "seek_locked", "premiere_at",
)  # fmt: skip


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a table"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def _check(path: Path) -> tuple[CourseManifest | None, list[Problem]]:
    file = str(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return None, [Problem(file, "", "file not found")]
    except OSError as exc:
        return None, [Problem(file, "", f"cannot read: {exc.strerror or exc}")]
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(file, "", f"not valid TOML: {exc}")]
    except UnicodeDecodeError:
        return None, [Problem(file, "", "not valid TOML: not UTF-8 text")]
    checker = _Checker(file, path.parent)
    manifest = checker.manifest(data, path)
    return manifest, checker.problems


def load_manifest(path: str | Path) -> CourseManifest:
    """Read one course.toml. Raises `ManifestError` listing every problem found."""
    manifest, problems = _check(Path(path))
    if problems or manifest is None:
        raise ManifestError(problems)
    return manifest


def discover_courses(root: str | Path) -> list[CourseManifest]:
    """Every course under ``root`` (each sub-folder holding a course.toml), sorted by folder.

    Raises one `ManifestError` listing the problems of every broken manifest, and course ids
    used by more than one folder.
    """
    base = Path(root)
    if not base.is_dir():
        raise ManifestError([Problem(str(base), "", "course folder not found")])
    courses: list[CourseManifest] = []
    problems: list[Problem] = []
    for folder in sorted(p for p in base.iterdir() if p.is_dir()):
        path = folder / MANIFEST_NAME
        if not path.is_file():
            continue
        manifest, found = _check(path)
        problems += found
        if manifest is None:
            continue
        clash = next((c for c in courses if c.id == manifest.id), None)
        if clash is not None:
            problems.append(
                Problem(str(path), "id", f"{manifest.id!r} is also used by {clash.manifest_path}")
            )
            continue
        courses.append(manifest)
    if problems:
        raise ManifestError(problems)
    return courses
