"""Lesson media over HTTP as phone browsers fetch it: ranges, validators, MIME types, access."""

from __future__ import annotations

from pathlib import Path

import courses_fixtures
import pytest

demo_course = courses_fixtures.demo_course
REPO = Path(__file__).resolve().parents[2]
VIDEO = (REPO / "courses/first-lesson-return-to-work/media/01-equipment-restart.mp4").read_bytes()
SIZE = len(VIDEO)
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
          "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1")


@pytest.fixture
def video_url(demo_course):
    return f"/courses/lessons/{demo_course['lessons'][0]}/video"


@pytest.fixture
def worker(client, people):
    client.login(people["worker_login"])
    return client


def get(client, url, **headers):
    headers.setdefault("User-Agent", SAFARI)
    return client.get(url, headers=headers)


def test_whole_file_with_validators(worker, video_url):
    r = get(worker, video_url)
    assert r.status_code == 200
    assert r.data == VIDEO
    assert r.headers["Content-Type"] == "video/mp4"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Content-Length"] == str(SIZE)
    assert r.headers["ETag"].startswith('"') and r.headers["Last-Modified"]
    assert "private" in r.headers["Cache-Control"]


def test_ios_safari_sequence_probe_then_ranges(worker, video_url):
    # 1. The probe: two bytes, to learn that ranges work and the full length.
    probe = get(worker, video_url, Range="bytes=0-1", **{"X-Playback-Session-Id": "A1"})
    assert probe.status_code == 206
    assert probe.data == VIDEO[:2]
    assert probe.headers["Content-Range"] == f"bytes 0-1/{SIZE}"
    assert probe.headers["Content-Length"] == "2"
    etag = probe.headers["ETag"]
    # 2. The whole file, as a range.
    whole = get(worker, video_url, Range=f"bytes=0-{SIZE - 1}")
    assert whole.status_code == 206 and whole.data == VIDEO
    assert whole.headers["Content-Range"] == f"bytes 0-{SIZE - 1}/{SIZE}"
    # 3. Seeking: open-ended ranges from the middle, several in a row.
    for start in (SIZE // 2, SIZE // 3, SIZE - 100):
        r = get(worker, video_url, Range=f"bytes={start}-", **{"If-Range": etag})
        assert r.status_code == 206
        assert r.data == VIDEO[start:]
        assert r.headers["Content-Range"] == f"bytes {start}-{SIZE - 1}/{SIZE}"
        assert r.headers["ETag"] == etag


def test_android_chrome_starts_with_bytes_0_open_ended(worker, video_url):
    r = get(worker, video_url, Range="bytes=0-")
    assert r.status_code == 206 and len(r.data) == SIZE


def test_suffix_range_and_end_past_the_file(worker, video_url):
    r = get(worker, video_url, Range="bytes=-500")
    assert r.status_code == 206 and r.data == VIDEO[-500:]
    assert r.headers["Content-Range"] == f"bytes {SIZE - 500}-{SIZE - 1}/{SIZE}"
    r = get(worker, video_url, Range=f"bytes={SIZE - 10}-{SIZE + 5000}")
    assert r.status_code == 206 and r.data == VIDEO[-10:]


def test_unsatisfiable_range_is_416_with_the_length(worker, video_url):
    r = get(worker, video_url, Range=f"bytes={SIZE}-")
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{SIZE}"


def test_malformed_range_is_ignored(worker, video_url):
    for header in ("bytes=abc", "items=0-1", "bytes=5-2", "bytes="):
        r = get(worker, video_url, Range=header)
        assert r.status_code == 200 and len(r.data) == SIZE, header


def test_several_ranges_are_coalesced_into_one(worker, video_url):
    r = get(worker, video_url, Range="bytes=0-1,100-199")
    assert r.status_code == 206 and r.data == VIDEO[:200]


def test_if_none_match_gives_304(worker, video_url):
    etag = get(worker, video_url, Range="bytes=0-1").headers["ETag"]
    r = get(worker, video_url, **{"If-None-Match": etag})
    assert r.status_code == 304 and r.data == b""
    assert r.headers["ETag"] == etag
    assert get(worker, video_url, **{"If-None-Match": f"W/{etag}"}).status_code == 304
    assert get(worker, video_url, **{"If-None-Match": '"other"'}).status_code == 200


def test_if_modified_since(worker, video_url):
    modified = get(worker, video_url, Range="bytes=0-1").headers["Last-Modified"]
    assert get(worker, video_url, **{"If-Modified-Since": modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert get(worker, video_url, **{"If-Modified-Since": old}).status_code == 200


def test_if_range_with_a_stale_validator_sends_the_whole_file(worker, video_url):
    r = get(worker, video_url, Range="bytes=100-", **{"If-Range": '"stale"'})
    assert r.status_code == 200 and len(r.data) == SIZE
    r = get(worker, video_url, Range="bytes=100-",
            **{"If-Range": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert r.status_code == 200
    modified = get(worker, video_url, Range="bytes=0-1").headers["Last-Modified"]
    r = get(worker, video_url, Range="bytes=100-", **{"If-Range": modified})
    assert r.status_code == 206


def test_head_gives_length_without_body(worker, video_url):
    r = worker.head(video_url)
    assert r.status_code == 200 and r.data == b""
    assert r.headers["Content-Length"] == str(SIZE)
    r = worker.head(video_url, headers={"Range": "bytes=0-1"})
    assert r.status_code == 206 and r.headers["Content-Length"] == "2"


def test_poster_and_subtitles_have_their_mime_types(worker, demo_course):
    lesson = demo_course["lessons"][0]
    poster = get(worker, f"/courses/lessons/{lesson}/poster")
    assert poster.status_code == 200 and poster.headers["Content-Type"] == "image/jpeg"
    assert poster.data[:3] == b"\xff\xd8\xff"
    vtt = get(worker, f"/courses/lessons/{lesson}/subtitles/zh-CN.vtt")
    assert vtt.status_code == 200
    assert vtt.headers["Content-Type"] == "text/vtt; charset=utf-8"
    assert vtt.data.startswith(b"WEBVTT")
    assert get(worker, f"/courses/lessons/{lesson}/subtitles/en.vtt").status_code == 404


def test_only_enrolled_workers_and_staff_may_fetch(app, client, people, video_url):
    assert client.get(video_url).status_code == 302  # anonymous: to the log-in page
    client.login(people["other_worker_login"])
    assert client.get(video_url).status_code == 404
    client.logout()
    client.login(people["other_safety_login"])
    assert client.get(video_url).status_code == 404
    client.logout()
    for staff in ("instructor_login", "admin_login"):
        client.login(people[staff])
        assert client.get(video_url, headers={"Range": "bytes=0-1"}).status_code == 206
        client.logout()
    assert client.get("/courses/lessons/999999/video").status_code == 302


def test_x_accel_redirect_hands_the_file_to_nginx(app, worker, video_url, demo_course):
    app.config["MEDIA_ACCEL_PREFIX"] = "/_protected_media"
    try:
        r = get(worker, video_url, Range="bytes=0-1")
    finally:
        app.config["MEDIA_ACCEL_PREFIX"] = ""
    assert r.status_code == 200 and r.data == b""
    key = demo_course["media"][demo_course["lessons"][0]]
    assert r.headers["X-Accel-Redirect"] == f"/_protected_media/{key}"
    assert r.headers["Content-Type"] == "video/mp4"
    assert r.headers["ETag"]
