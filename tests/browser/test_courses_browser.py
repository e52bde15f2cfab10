"""A worker on a phone: plays a lesson, leaves midway, resumes on another device at the same
point, cannot skip ahead, keeps progress through a lost connection, and is credited hours only
for what was watched.

Uses a very short generated lesson (12 s) so the test runs in real time in about half a minute.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser.conftest import PHONE, horizontal_overflow, login
from tests.conftest import PASSWORD
from tests.missing import missing
from trainer.accounts.models import User
from trainer.courses.models import Course, LessonProgress, TrainingHours
from trainer.courses.services import enrol, sync_courses
from trainer.db import db

DURATION = 12

MANIFEST = """
id = "browser-test"
version = 1
title.zh_CN = "浏览器测试课程"
title.en = "Browser test course"
description.zh_CN = "测试"
description.en = "Test"
hours = 1
certificate_types = [{ code = "SM", purpose = "review" }]

[[lessons]]
id = "short"
title.zh_CN = "短课时"
title.en = "A short lesson"
video = "short.mp4"
poster = "short.jpg"
subtitles = [{ lang = "zh-CN", path = "short.zh-CN.vtt" }]
duration_seconds = 12
"""

VTT = """WEBVTT

00:00.000 --> 00:06.000
开工前先检查设备。

00:06.000 --> 00:12.000
确认安全后再启动。
"""


@pytest.fixture(scope="module")
def short_course(tmp_path_factory) -> Path:
    if shutil.which("ffmpeg") is None:
        missing("needs ffmpeg: apt-get install ffmpeg")
    root = tmp_path_factory.mktemp("courses")
    folder = root / "browser-test"
    folder.mkdir()
    subprocess.run([
        "ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
        f"testsrc2=size=320x180:rate=10:duration={DURATION}", "-f", "lavfi", "-i",
        f"sine=frequency=440:duration={DURATION}", "-c:v", "libx264", "-profile:v", "main",
        "-pix_fmt", "yuv420p", "-g", "10", "-c:a", "aac", "-b:a", "32k", "-shortest",
        "-movflags", "+faststart", str(folder / "short.mp4")], check=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-ss", "1", "-i",
                    str(folder / "short.mp4"), "-frames:v", "1", str(folder / "short.jpg")],
                   check=True)
    (folder / "short.zh-CN.vtt").write_text(VTT, "utf-8")
    (folder / "course.toml").write_text(MANIFEST, "utf-8")
    return root


@pytest.fixture
def lesson_id(app, people, short_course) -> int:
    with app.app_context():
        sync_courses(short_course)
        course = db.session.scalar(sa.select(Course).where(Course.key == "browser-test"))
        enrol(db.session.get(User, people["worker"]), course, None, None)
        db.session.commit()
        return course.active_lessons[0].id


def progress(app, people, lesson_id):
    with app.app_context():
        db.session.expire_all()
        return db.session.scalar(sa.select(LessonProgress).where(
            LessonProgress.user_id == people["worker"], LessonProgress.lesson_id == lesson_id))


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting")


def play_until(page, seconds):
    page.evaluate("() => { const v = document.getElementById('player'); v.muted = true; "
                  "v.play().catch(() => {}); }")  # not awaited: the waits below time out
    page.wait_for_function(f"document.getElementById('player').currentTime >= {seconds}",
                           timeout=(seconds + 10) * 1000)


def current_time(page) -> float:
    return float(page.evaluate("document.getElementById('player').currentTime"))


def open_lesson(page, lesson_id):
    page.goto(f"/courses/lessons/{lesson_id}")
    page.wait_for_function("document.getElementById('player').readyState >= 1")


def test_watch_leave_resume_elsewhere_no_skip_offline_and_hours(app, browser, live_server,
                                                                 people, lesson_id):
    first = browser.new_context(base_url=live_server, locale="zh-CN", **PHONE)
    first.set_default_timeout(15_000)
    page = first.new_page()
    login(page, people["worker_login"], PASSWORD)
    open_lesson(page, lesson_id)
    assert page.evaluate("document.getElementById('player').canPlayType('video/mp4')") != ""
    assert page.locator("video[playsinline]").count() == 1
    assert page.locator("track[kind=subtitles][srclang=zh-CN]").count() == 1
    assert horizontal_overflow(page) == 0

    # Watch about 5 s, then leave mid-play (the page reports on pagehide, fetch keepalive).
    play_until(page, 5)
    page.goto("/courses/")
    row = wait_for(lambda: (p := progress(app, people, lesson_id)) and p.watched_seconds > 3
                   and p)
    left_at = row.last_position
    assert 4.5 <= left_at <= 7.5, left_at
    assert row.segments[0][0] <= 0.5 and row.completed_at is None
    first.close()

    # Another device: a fresh browser context resumes at the same point.
    second = browser.new_context(base_url=live_server, locale="zh-CN", **PHONE)
    second.set_default_timeout(15_000)
    page = second.new_page()
    login(page, people["worker_login"], PASSWORD)
    open_lesson(page, lesson_id)
    page.wait_for_function(f"document.getElementById('player').currentTime >= {left_at - 0.6}")
    assert abs(current_time(page) - left_at) < 0.6

    # Skipping ahead is blocked by the player.
    page.evaluate("document.getElementById('player').currentTime = 11")
    page.wait_for_function("document.getElementById('player').currentTime < 9")
    assert current_time(page) <= row.furthest_position + 1.5
    assert page.locator("#notice").is_visible()

    # Lose the connection while watching: the report is kept in localStorage, sent when back.
    second.set_offline(True)
    start = current_time(page)
    play_until(page, start + 2.5)
    page.evaluate("document.getElementById('player').pause()")
    page.wait_for_function("localStorage.length > 0 && "
                           "JSON.parse(localStorage.getItem(localStorage.key(0))).s.length > 0")
    assert page.locator("#notice").is_visible()
    before = progress(app, people, lesson_id).watched_seconds
    second.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    wait_for(lambda: progress(app, people, lesson_id).watched_seconds >= before + 2)
    page.wait_for_function("localStorage.length === 0")

    # No hours yet: only part of the lesson was watched.
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingHours)) == 0

    # Watch to the end: completed, hours credited once.
    play_until(page, DURATION - 0.3)
    page.wait_for_function("document.getElementById('player').ended")
    wait_for(lambda: progress(app, people, lesson_id).completed_at is not None)
    page.wait_for_selector("#status:has-text('已完成')")
    with app.app_context():
        rows = db.session.scalars(sa.select(TrainingHours)).all()
        assert len(rows) == 1 and str(rows[0].hours) == "1.0000"
    final = progress(app, people, lesson_id)
    assert final.watched_seconds <= DURATION
    assert final.segments[0][0] <= 0.5 and final.segments[-1][1] >= DURATION - 1
    page.goto("/courses/")
    assert page.locator("[data-testid=my-courses]").inner_text().count("已完成") >= 1
    second.close()


def test_instructor_uploads_a_video_with_a_progress_bar(app, phone, people, short_course,
                                                        tmp_path):
    from decimal import Decimal

    with app.app_context():
        db.session.add(Course(key="uploads", version=1, title_zh="上传课程", title_en="Uploads",
                              certificate_types=["SM"], purpose="review",
                              targets=[["SM", "review"]], hours=Decimal(2), source="upload"))
        db.session.commit()
    # A not-phone-friendly source (VP9 WebM), so the server converts it.
    source = tmp_path / "lecture.webm"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=640x360:rate=10:duration=3", "-c:v", "libvpx-vp9",
                    "-deadline", "realtime", "-cpu-used", "8", "-b:v", "600k", str(source)],
                   check=True)
    page = phone
    login(page, people["instructor_login"], PASSWORD)
    page.goto("/courses/admin/upload")
    assert horizontal_overflow(page) == 0
    # A bad file first: refused with a clear message, nothing added.
    bad = tmp_path / "notes.mp4"
    bad.write_bytes(b"these are my notes, not a video" * 50)
    page.fill("#title_zh", "测试课时")
    page.fill("#title_en", "Test lesson")
    page.set_input_files("#video", str(bad))
    page.click("[data-testid=upload-submit]")
    page.wait_for_selector("#upload-status.error")
    assert "视频" in page.inner_text("#upload-status")
    # Then the real video, over a slow uplink so the progress bar is seen moving.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 50, "downloadThroughput": 500_000,
        "uploadThroughput": max(20_000, source.stat().st_size // 3)})
    page.set_input_files("#video", str(source))
    page.click("[data-testid=upload-submit]")
    page.wait_for_selector("[data-testid=upload-progress]:not([hidden])")
    page.wait_for_function("document.getElementById('upload-progress').value > 0")
    page.wait_for_url("**/courses/lessons/*", timeout=60_000)
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    info = page.inner_text("[data-testid=media-info]")
    assert "h264" in info and "vp9" in info  # converted (never upscaled: 640x360 stays)
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    duration = page.evaluate("document.getElementById('player').duration")
    assert abs(duration - 3) < 0.5


def test_premiere_countdown_then_everyone_at_the_live_position(app, phone, people, lesson_id):
    import datetime as dt

    from trainer.courses.models import Lesson

    with app.app_context():
        db.session.get(Lesson, lesson_id).premiere_at = (
            dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3))
        db.session.commit()
    page = phone
    login(page, people["worker_login"], PASSWORD)
    page.goto(f"/courses/lessons/{lesson_id}")
    assert page.locator("[data-testid=countdown]").is_visible()
    assert page.get_attribute("#player", "src") is None  # nothing to play before it starts
    # The page reloads itself when the countdown ends; the premiere is then live.
    page.wait_for_selector("[data-testid=live]", timeout=15_000)
    time.sleep(3)  # join late
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    page.evaluate("() => { const v = document.getElementById('player'); v.muted = true; "
                  "v.play().catch(() => {}); }")  # not awaited: the waits below time out
    page.wait_for_function("document.getElementById('player').currentTime > 0")
    started = current_time(page)
    assert started >= 2.5, started  # mid-stream, not from the beginning
    # Seeking back to the start snaps to the live position.
    page.evaluate("document.getElementById('player').currentTime = 0")
    page.wait_for_function("document.getElementById('player').currentTime > 2")
    play_until(page, started + 2)
    page.goto("/courses/")  # leave: the page reports what was watched
    row = wait_for(lambda: (p := progress(app, people, lesson_id)) and p.watched_seconds > 1
                   and p)
    assert row.segments[0][0] >= 2.0  # credited from where the worker joined
