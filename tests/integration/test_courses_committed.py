"""The committed demo course 开工第一课: it loads, its files exist and its videos suit phones."""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from trainer.courses.manifest import CourseManifest, Lesson, discover_courses, load_manifest
from trainer.courses.media import phone_problems, probe
from trainer.courses.webvtt import parse_webvtt

REPO = Path(__file__).resolve().parents[2]
COURSES = REPO / "courses"
COURSE = COURSES / "first-lesson-return-to-work"
TOOL = COURSES / "tools" / "make_first_lesson.py"

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffprobe") is None, reason="needs ffprobe: apt-get install ffmpeg"
)


@pytest.fixture(scope="module")
def course() -> CourseManifest:
    return load_manifest(COURSE / "course.toml")


def lessons() -> list[Lesson]:
    return list(load_manifest(COURSE / "course.toml").lessons)


def test_the_course_is_discovered() -> None:
    found = discover_courses(COURSES)
    assert "first-lesson-return-to-work" in [c.id for c in found]


def test_the_course_is_restart_safety_review_for_sm_and_pm(course: CourseManifest) -> None:
    assert course.title.zh_CN == "开工第一课"
    assert {(c.code, c.purpose) for c in course.certificate_types} == {
        ("SM", "review"),
        ("PM", "review"),
    }
    assert len(course.lessons) >= 3
    assert course.lessons[0].premiere_at is not None
    assert all(
        lesson.seek_locked and lesson.completion_threshold == 0.95 for lesson in course.lessons
    )
    assert 0 < course.hours * 45 * 60 <= course.duration_seconds


def test_every_referenced_file_exists(course: CourseManifest) -> None:
    for lesson in course.lessons:
        paths = [lesson.video, lesson.poster, *(s.path for s in lesson.subtitles)]
        for relative in paths:
            assert course.resolve(relative).is_file(), relative
        assert [s.lang for s in lesson.subtitles] == ["zh-CN"]


def test_media_is_small_enough_to_commit_and_download() -> None:
    total = sum(f.stat().st_size for f in COURSE.rglob("*") if f.is_file())
    assert total < 4 * 1024 * 1024


def moov_before_mdat(path: Path) -> bool:
    """Read the top-level boxes directly, independently of trainer.courses.media."""
    order = []
    with path.open("rb") as f:
        while header := f.read(8):
            size = int.from_bytes(header[:4], "big")
            if size == 1:
                size = int.from_bytes(f.read(8), "big") - 8
            order.append(header[4:8])
            if size == 0:
                break
            f.seek(size - 8, 1)
    return order.index(b"moov") < order.index(b"mdat")


@needs_ffmpeg
@pytest.mark.parametrize("lesson", lessons(), ids=lambda lesson: lesson.id)
def test_video_is_phone_friendly_h264_aac_with_faststart(
    course: CourseManifest, lesson: Lesson
) -> None:
    path = course.resolve(lesson.video)
    info = probe(path)

    assert info.video_codec == "h264"
    assert info.profile in {"Main", "Baseline", "Constrained Baseline"}
    assert info.pix_fmt == "yuv420p"
    assert info.audio_codec == "aac"
    assert info.height <= 480 and info.width <= 854
    assert moov_before_mdat(path)
    assert phone_problems(info) == []
    assert abs(info.duration - lesson.duration_seconds) <= 0.5
    assert 45 <= lesson.duration_seconds <= 90


@pytest.mark.parametrize("lesson", lessons(), ids=lambda lesson: lesson.id)
def test_subtitles_parse_and_fit_the_video(course: CourseManifest, lesson: Lesson) -> None:
    text = course.resolve(lesson.subtitles[0].path).read_text("utf-8")
    assert text.startswith("WEBVTT\n")
    cues = parse_webvtt(text)

    assert len(cues) >= 5
    for before, after in zip(cues, cues[1:], strict=False):
        assert before.end <= after.start  # one narration line at a time
    assert cues[0].start >= 0
    assert cues[-1].end <= lesson.duration_seconds + 0.05
    assert all(cue.text.strip() and "{" not in cue.text for cue in cues)


@pytest.mark.parametrize("lesson", lessons(), ids=lambda lesson: lesson.id)
def test_poster_is_a_480p_jpeg(course: CourseManifest, lesson: Lesson) -> None:
    with Image.open(course.resolve(lesson.poster)) as image:
        assert image.format == "JPEG"
        assert image.size == (854, 480)


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_first_lesson", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def test_course_matches_its_script(course: CourseManifest) -> None:
    """Editing the script without re-running the tool leaves the course stale: catch it."""
    tool = load_tool()
    with tool.SCRIPT.open("rb") as f:
        script = tomllib.load(f)

    assert course.id == script["course"]["id"]
    assert [lesson.id for lesson in course.lessons] == [x["id"] for x in script["lessons"]]
    for lesson, written in zip(course.lessons, script["lessons"], strict=True):
        cues = parse_webvtt(course.resolve(lesson.subtitles[0].path).read_text("utf-8"))
        lines = [tool.shown(line) for slide in written["slides"] for line in slide["narration"]]
        assert [cue.text for cue in cues] == lines
        assert lesson.title.zh_CN == written["title"]["zh_CN"]
