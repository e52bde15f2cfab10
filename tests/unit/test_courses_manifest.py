"""Course manifests: a good one loads; every kind of bad one names the file and the field."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from trainer.courses.manifest import (
    DEFAULT_COMPLETION_THRESHOLD,
    CertificateTarget,
    ManifestError,
    discover_courses,
    load_manifest,
)

VTT = """WEBVTT

1
00:00:00.000 --> 00:00:04.000
第一句。

2
00:00:04.000 --> 00:00:09.500
第二句。
"""


def toml(value: Any) -> str:
    """Just enough TOML for these tests: everything inline."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def good_manifest() -> dict[str, Any]:
    def lesson(n: int, **extra: Any) -> dict[str, Any]:
        return {
            "id": f"lesson-{n}",
            "title": {"zh_CN": f"第{n}讲", "en": f"Lesson {n}"},
            "video": f"media/{n:02d}.mp4",
            "subtitles": [{"lang": "zh-CN", "path": f"media/{n:02d}.zh-CN.vtt"}],
            "poster": f"media/{n:02d}.jpg",
            "duration_seconds": 10.0,
            **extra,
        }

    return {
        "id": "demo-course",
        "version": 3,
        "title": {"zh_CN": "示例课程", "en": "Demo course"},
        "description": {"zh_CN": "说明", "en": "About"},
        "certificate_types": [
            {"code": "SM", "purpose": "review"},
            {"code": "1.2", "purpose": "initial"},
        ],
        "hours": 1.5,
        "lessons": [
            lesson(1, premiere_at=datetime(2020, 2, 24, 9, tzinfo=timezone(timedelta(hours=8)))),
            lesson(2, completion_threshold=0.8, seek_locked=False),
            lesson(3),
        ],
    }


def write_course(folder: Path, manifest: dict[str, Any]) -> Path:
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    for n in (1, 2, 3):
        (media / f"{n:02d}.mp4").write_bytes(b"\0\0\0\x08free")  # the loader does not probe
        (media / f"{n:02d}.jpg").write_bytes(b"\xff\xd8\xff\xd9")
        (media / f"{n:02d}.zh-CN.vtt").write_text(VTT, encoding="utf-8")
    path = folder / "course.toml"
    lines = [f"{key} = {toml(value)}" for key, value in manifest.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    return tmp_path / "courses" / "demo"


def test_good_manifest_loads_with_defaults(course_dir: Path) -> None:
    path = write_course(course_dir, good_manifest())

    course = load_manifest(path)

    assert course.id == "demo-course"
    assert course.version == 3
    assert course.title.zh_CN == "示例课程"
    assert course.title.get("en_US") == "Demo course"
    assert course.title.get("zh-CN") == "示例课程"
    assert course.certificate_types == (
        CertificateTarget("SM", "review"),
        CertificateTarget("1.2", "initial"),
    )
    assert course.hours == 1.5
    assert [lesson.id for lesson in course.lessons] == ["lesson-1", "lesson-2", "lesson-3"]
    first, second, third = course.lessons
    assert first.premiere_at == datetime(2020, 2, 24, 1, tzinfo=UTC)
    assert first.completion_threshold == DEFAULT_COMPLETION_THRESHOLD == 0.95
    assert first.seek_locked is True
    assert (second.completion_threshold, second.seek_locked) == (0.8, False)
    assert third.premiere_at is None
    assert first.subtitles[0].lang == "zh-CN"
    assert course.resolve(first.video) == course_dir / "media" / "01.mp4"
    assert course.resolve(first.subtitles[0].path).is_file()
    assert course.duration_seconds == 30.0
    assert course.lesson("lesson-2") is second
    assert course.lesson("nope") is None
    assert course.directory == course_dir


def test_subtitles_are_optional(course_dir: Path) -> None:
    manifest = good_manifest()
    del manifest["lessons"][0]["subtitles"]
    assert load_manifest(write_course(course_dir, manifest)).lessons[0].subtitles == ()


def test_premiere_may_be_an_iso_string(course_dir: Path) -> None:
    manifest = good_manifest()
    manifest["lessons"][0]["premiere_at"] = "2020-02-24T09:00:00+08:00"
    course = load_manifest(write_course(course_dir, manifest))
    assert course.lessons[0].premiere_at == datetime(2020, 2, 24, 1, tzinfo=UTC)


Mutation = Callable[[dict[str, Any]], None]


def lesson(n: int, **changes: Any) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        m["lessons"][n].update(changes)

    return mutate


def drop(*keys: str | int) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        target: Any = m
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return mutate


def setting(key: str, value: Any) -> Mutation:
    def mutate(m: dict[str, Any]) -> None:
        m[key] = value

    return mutate


BAD: list[tuple[str, Mutation, str, str]] = [
    # (case, mutation, field path, words in the reason)
    ("id missing", drop("id"), "id", "missing"),
    ("id not a slug", setting("id", "Demo Course"), "id", "not a slug"),
    ("id too long", setting("id", "a" * 65), "id", "at most 64"),
    ("id not a string", setting("id", 7), "id", "must be a string, got an integer"),
    ("version missing", drop("version"), "version", "missing"),
    ("version a string", setting("version", "1"), "version", "whole number ≥ 1, got '1'"),
    ("version zero", setting("version", 0), "version", "whole number ≥ 1"),
    ("version a bool", setting("version", True), "version", "whole number"),
    ("version a float", setting("version", 1.5), "version", "whole number"),
    ("title missing", drop("title"), "title", "missing"),
    ("title a string", setting("title", "开工"), "title", "must be a table"),
    ("title.en missing", drop("title", "en"), "title.en", "missing"),
    ("title.zh_CN empty", lambda m: m["title"].update(zh_CN="  "), "title.zh_CN", "empty"),
    ("title.fr unknown", lambda m: m["title"].update(fr="x"), "title.fr", "unknown field"),
    ("description missing", drop("description"), "description", "missing"),
    ("description.zh_CN missing", drop("description", "zh_CN"), "description.zh_CN", "missing"),
    ("certificates missing", drop("certificate_types"), "certificate_types", "missing"),
    ("certificates empty", setting("certificate_types", []), "certificate_types", "non-empty"),
    (
        "certificate not a table",
        setting("certificate_types", ["SM"]),
        "certificate_types[0]",
        "must be a table",
    ),
    (
        "certificate purpose",
        setting("certificate_types", [{"code": "SM", "purpose": "renewal"}]),
        "certificate_types[0].purpose",
        "'renewal' must be one of: initial, review",
    ),
    (
        "certificate code",
        setting("certificate_types", [{"code": "S M", "purpose": "review"}]),
        "certificate_types[0].code",
        "not a certificate type code",
    ),
    (
        "certificate code missing",
        setting("certificate_types", [{"purpose": "review"}]),
        "certificate_types[0].code",
        "missing",
    ),
    (
        "certificate twice",
        setting("certificate_types", [{"code": "PM", "purpose": "review"}] * 2),
        "certificate_types[1]",
        "listed twice",
    ),
    ("hours missing", drop("hours"), "hours", "missing"),
    ("hours zero", setting("hours", 0), "hours", "must be a number > 0"),
    ("hours negative", setting("hours", -2.5), "hours", "> 0"),
    ("hours a string", setting("hours", "8"), "hours", "must be a number, got a string"),
    ("hours a bool", setting("hours", True), "hours", "must be a number, got a boolean"),
    ("hours inf", setting("hours", float("inf")), "hours", "must be a number > 0"),
    ("unknown course field", setting("hour", 8), "hour", "unknown field"),
    ("lessons missing", drop("lessons"), "lessons", "missing"),
    ("lessons empty", setting("lessons", []), "lessons", "non-empty"),
    ("lesson not a table", lambda m: m["lessons"].append("x"), "lessons[3]", "must be a table"),
    ("lesson id missing", drop("lessons", 1, "id"), "lessons[1].id", "missing"),
    ("lesson id bad", lesson(1, id="第二讲"), "lessons[1].id", "not a slug"),
    ("lesson id twice", lesson(2, id="lesson-1"), "lessons[2].id", "already lessons[0]"),
    ("lesson title missing", drop("lessons", 0, "title"), "lessons[0].title", "missing"),
    ("lesson title.en", drop("lessons", 0, "title", "en"), "lessons[0].title.en", "missing"),
    ("video missing", drop("lessons", 2, "video"), "lessons[2].video", "missing"),
    (
        "video not found",
        lesson(2, video="media/missing.mp4"),
        "lessons[2].video",
        "file not found: media/missing.mp4",
    ),
    ("video absolute", lesson(0, video="/etc/passwd.mp4"), "lessons[0].video", "relative path"),
    ("video outside", lesson(0, video="../demo/media/01.mp4"), "lessons[0].video", "relative"),
    ("video backslash", lesson(0, video="media\\01.mp4"), "lessons[0].video", "forward slashes"),
    ("video not mp4", lesson(0, video="media/01.jpg"), "lessons[0].video", "must end in .mp4"),
    ("video empty", lesson(0, video=""), "lessons[0].video", "must not be empty"),
    ("poster missing", drop("lessons", 0, "poster"), "lessons[0].poster", "missing"),
    ("poster not found", lesson(0, poster="media/p.png"), "lessons[0].poster", "file not found"),
    ("poster a video", lesson(0, poster="media/01.mp4"), "lessons[0].poster", "must end in"),
    (
        "subtitles not a list",
        lesson(0, subtitles="media/01.zh-CN.vtt"),
        "lessons[0].subtitles",
        "must be a list",
    ),
    (
        "subtitle lang bad",
        lesson(0, subtitles=[{"lang": "Chinese", "path": "media/01.zh-CN.vtt"}]),
        "lessons[0].subtitles[0].lang",
        "not a language tag",
    ),
    (
        "subtitle lang twice",
        lesson(0, subtitles=[{"lang": "zh-CN", "path": "media/01.zh-CN.vtt"}] * 2),
        "lessons[0].subtitles[1].lang",
        "listed twice",
    ),
    (
        "subtitle not vtt",
        lesson(0, subtitles=[{"lang": "zh-CN", "path": "media/01.jpg"}]),
        "lessons[0].subtitles[0].path",
        "must end in .vtt",
    ),
    (
        "subtitle missing file",
        lesson(0, subtitles=[{"lang": "zh-CN", "path": "media/09.zh-CN.vtt"}]),
        "lessons[0].subtitles[0].path",
        "file not found",
    ),
    (
        "subtitle past the end",
        lesson(1, duration_seconds=8.0),
        "lessons[1].subtitles[0].path",
        "line 8: cue ends at 9.500 s, after the end of the video (8 s",
    ),
    (
        "subtitle unknown key",
        lesson(0, subtitles=[{"lang": "zh-CN", "path": "media/01.zh-CN.vtt", "kind": "x"}]),
        "lessons[0].subtitles[0].kind",
        "unknown field",
    ),
    (
        "duration missing",
        drop("lessons", 0, "duration_seconds"),
        "lessons[0].duration_seconds",
        "missing",
    ),
    ("duration zero", lesson(0, duration_seconds=0), "lessons[0].duration_seconds", "> 0"),
    ("duration text", lesson(0, duration_seconds="90"), "lessons[0].duration_seconds", "number"),
    (
        "threshold above 1",
        lesson(0, completion_threshold=1.5),
        "lessons[0].completion_threshold",
        "> 0 and ≤ 1, got 1.5",
    ),
    ("threshold zero", lesson(0, completion_threshold=0), "lessons[0].completion_threshold", "> 0"),
    ("seek_locked text", lesson(0, seek_locked="yes"), "lessons[0].seek_locked", "true or false"),
    (
        "premiere without offset",
        lesson(0, premiere_at=datetime(2020, 2, 24, 9)),
        "lessons[0].premiere_at",
        "has no UTC offset",
    ),
    (
        "premiere a date",
        lesson(0, premiere_at=date(2020, 2, 24)),
        "lessons[0].premiere_at",
        "a date without a time",
    ),
    (
        "premiere bad string",
        lesson(0, premiere_at="next Monday"),
        "lessons[0].premiere_at",
        "not an ISO 8601 date-time",
    ),
    (
        "premiere naive string",
        lesson(0, premiere_at="2020-02-24T09:00:00"),
        "lessons[0].premiere_at",
        "has no UTC offset",
    ),
    ("premiere a number", lesson(0, premiere_at=2020), "lessons[0].premiere_at", "an integer"),
    ("unknown lesson field", lesson(2, seek_lock=False), "lessons[2].seek_lock", "unknown field"),
]


@pytest.mark.parametrize(
    ("mutate", "field", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_manifest_names_file_and_field(
    course_dir: Path, mutate: Mutation, field: str, reason: str
) -> None:
    manifest = copy.deepcopy(good_manifest())
    mutate(manifest)
    path = write_course(course_dir, manifest)

    with pytest.raises(ManifestError) as caught:
        load_manifest(path)

    lines = str(caught.value).splitlines()
    expected = f"{path}: {field}: "
    matching = [line for line in lines if line.startswith(expected)]
    assert matching, f"no problem for {field} in:\n{caught.value}"
    assert any(reason in line for line in matching), "\n".join(lines)
    assert all(problem.file == str(path) for problem in caught.value.problems)


def test_every_problem_is_reported_at_once(course_dir: Path) -> None:
    manifest = good_manifest()
    manifest["version"] = "two"
    manifest["hours"] = -1
    manifest["lessons"][2]["video"] = "media/03-missing.mp4"
    manifest["lessons"][0]["seek_locked"] = "no"
    path = write_course(course_dir, manifest)

    with pytest.raises(ManifestError) as caught:
        load_manifest(path)

    fields = [problem.field for problem in caught.value.problems]
    assert fields == ["version", "hours", "lessons[0].seek_locked", "lessons[2].video"]
    assert str(caught.value).splitlines()[-1] == (
        f"{path}: lessons[2].video: file not found: media/03-missing.mp4"
    )


@pytest.mark.parametrize(
    ("vtt", "reason"),
    [
        ("1\n00:00:00.000 --> 00:00:01.000\nx\n", "line 1: a WebVTT file must start with WEBVTT"),
        (
            "WEBVTT\n\n00:00:01.5 --> 00:00:02.000\nx\n",
            "line 3: malformed cue timing '00:00:01.5 --> 00:00:02.000'",
        ),
        ("WEBVTT\n\n", "has no cues"),
        (b"WEBVTT\n\n00:00.000 --> 00:01.000\n\xff\n", "not UTF-8 text"),
    ],
)
def test_broken_subtitle_file_is_named(course_dir: Path, vtt: str | bytes, reason: str) -> None:
    path = write_course(course_dir, good_manifest())
    target = course_dir / "media" / "02.zh-CN.vtt"
    if isinstance(vtt, bytes):
        target.write_bytes(vtt)
    else:
        target.write_text(vtt, encoding="utf-8")

    with pytest.raises(ManifestError) as caught:
        load_manifest(path)

    assert (
        str(caught.value) == f"{path}: lessons[1].subtitles[0].path: media/02.zh-CN.vtt: {reason}"
    )


def test_symlink_out_of_the_course_folder_is_refused(course_dir: Path, tmp_path: Path) -> None:
    path = write_course(course_dir, good_manifest())
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    (course_dir / "media" / "01.mp4").unlink()
    (course_dir / "media" / "01.mp4").symlink_to(outside)

    with pytest.raises(ManifestError, match=r"lessons\[0\]\.video: 'media/01.mp4' leads outside"):
        load_manifest(path)


def test_missing_manifest(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "course.toml"
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    assert str(caught.value) == f"{path}: file not found"


def test_invalid_toml_is_reported_with_its_position(course_dir: Path) -> None:
    course_dir.mkdir(parents=True)
    path = course_dir / "course.toml"
    path.write_text('id = "x"\nversion = \n', encoding="utf-8")
    with pytest.raises(ManifestError, match=r"course\.toml: not valid TOML: .*line 2"):
        load_manifest(path)


def test_discover_courses_sorted_and_skips_folders_without_manifest(tmp_path: Path) -> None:
    root = tmp_path / "courses"
    second = good_manifest()
    second["id"] = "b-course"
    write_course(root / "zz-second", second)
    write_course(root / "aa-first", good_manifest())
    (root / "tools").mkdir()
    (root / "README.md").write_text("not a course", encoding="utf-8")

    courses = discover_courses(root)

    assert [course.id for course in courses] == ["demo-course", "b-course"]


def test_discover_courses_reports_every_broken_course_and_duplicate_ids(tmp_path: Path) -> None:
    root = tmp_path / "courses"
    write_course(root / "a", good_manifest())
    write_course(root / "b", good_manifest())  # same id as a
    broken = good_manifest()
    broken["id"] = "c-course"
    broken["hours"] = 0
    write_course(root / "c", broken)

    with pytest.raises(ManifestError) as caught:
        discover_courses(root)

    assert [str(p) for p in caught.value.problems] == [
        f"{root / 'b' / 'course.toml'}: id: 'demo-course' is also used by "
        f"{root / 'a' / 'course.toml'}",
        f"{root / 'c' / 'course.toml'}: hours: must be a number > 0, got 0",
    ]


def test_discover_courses_without_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="course folder not found"):
        discover_courses(tmp_path / "missing")
