"""Course pages: my courses, the course outline, the lesson page (server side)."""

from __future__ import annotations

import datetime as dt
import json
import re

import courses_fixtures
import sqlalchemy as sa

from trainer.courses.models import Enrolment, Lesson
from trainer.db import db

demo_course = courses_fixtures.demo_course


def test_my_courses_shows_what_is_due(app, client, people, demo_course):
    with app.app_context():
        row = db.session.scalar(sa.select(Enrolment))
        row.due_on = dt.date(2020, 1, 1)
        db.session.commit()
    client.login(people["worker_login"])
    page = client.get("/courses/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The first lesson on returning to work" in page or "开工第一课" in page
    assert "Overdue since 2020-01-01" in page or "逾期" in page
    assert "0 of 3 lessons" in page or "0 / 3" in page


def test_my_courses_in_chinese(app, client, people, demo_course):
    client.login(people["worker_login"])
    page = client.get("/courses/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "我的课程" in page and "开工第一课" in page


def test_course_page_outline(client, people, demo_course):
    client.login(people["worker_login"])
    page = client.get(f"/courses/{demo_course['course_key']}").get_data(as_text=True)
    assert page.count("<progress") == 3
    for lesson_id in demo_course["lessons"]:
        assert f"/courses/lessons/{lesson_id}" in page


def test_lesson_page_has_a_phone_player(app, client, people, demo_course):
    client.login(people["worker_login"])
    lesson = demo_course["keys"]["hazardous-chemicals"]
    response = client.get(f"/courses/lessons/{lesson}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert re.search(r"<video[^>]+playsinline", page)
    assert f'src="/courses/lessons/{lesson}/video"' in page
    assert f'src="/courses/lessons/{lesson}/subtitles/zh-CN.vtt" default' in page
    assert 'kind="subtitles"' in page and 'srclang="zh-CN"' in page
    data = json.loads(re.search(r'id="lesson-data">(.*?)</script>', page, re.S).group(1))
    assert data["progressUrl"] == f"/api/v1/lessons/{lesson}/progress"
    assert data["state"]["resume_position"] == 0
    assert "courses/lesson.js" in page
    with app.app_context():
        assert db.session.get(Lesson, lesson).visits == 1


def test_pages_are_404_to_workers_not_enrolled(client, people, demo_course):
    client.login(people["other_worker_login"])
    assert client.get(f"/courses/{demo_course['course_key']}").status_code == 404
    assert client.get(f"/courses/lessons/{demo_course['lessons'][0]}").status_code == 404
    assert client.get("/courses/").status_code == 200


def test_staff_see_every_course(client, people, demo_course):
    client.login(people["instructor_login"])
    page = client.get("/courses/").get_data(as_text=True)
    assert 'data-testid="catalogue"' in page
    assert client.get(f"/courses/lessons/{demo_course['lessons'][0]}").status_code == 200
