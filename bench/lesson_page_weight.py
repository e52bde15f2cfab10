"""Benchmark: what the lesson page costs a phone on a weak network, excluding the video itself.

Targets: ≤ 60 KB transferred (compressed) for the lesson page without the video, and a first
render usable on a slow-3G profile. Run from the repository root:

    .venv/bin/python bench/lesson_page_weight.py [--latency-ms 2000] [--kbps 400]

What it does: builds a throw-away app (SQLite, media in a temporary folder), loads the demo
course 开工第一课, enrols a worker, serves the app on loopback, and opens the first lesson's
page in Debian's Chromium (Playwright) at phone size with an empty cache, throttled through the
Chrome DevTools Protocol (Network.emulateNetworkConditions) to DevTools' "Slow 3G" profile:
2,000 ms latency, 400 kbit/s down and up. It records every response except the video's byte
ranges: bytes on the wire (this server does not compress), and the bytes a gzip-enabled front
proxy would send (text gzip-compressed at level 6; images as they are). It reports first
contentful paint, DOMContentLoaded, load, and when the player is usable (video metadata loaded,
so the play button works). Prints the figures and the command.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shlex
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_BYTES = 60 * 1024
CHROMIUM = os.environ.get("TRAINER_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "bench-password-2026"  # noqa: S105
TEXT_TYPES = ("text/", "application/javascript", "application/json", "image/svg")


def build_app(tmp: Path):  # type: ignore[no-untyped-def]
    from werkzeug.security import generate_password_hash

    from trainer import create_app
    from trainer.accounts.models import User
    from trainer.courses.models import Course
    from trainer.courses.services import enrol, sync_courses
    from trainer.db import db

    app = create_app({
        "TESTING": False, "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "SECRET_KEY": "bench-secret-key-" + "x" * 32, "MEDIA_ROOT": str(tmp / "media"),
        "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
    })
    with app.app_context():
        db.create_all()
        sync_courses()
        user = User(phone="13800000001", name="张伟", role="worker",
                    password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
        db.session.add(user)
        db.session.flush()
        course = db.session.scalar(db.select(Course))
        enrol(user, course, None, None)
        db.session.commit()
        lesson_id = course.active_lessons[0].id
    return app, lesson_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-ms", type=float, default=2000)
    parser.add_argument("--kbps", type=float, default=400)
    args = parser.parse_args()
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", *sys.argv])
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        raise SystemExit(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    tmp = Path(tempfile.mkdtemp(prefix="bench-page-"))
    app, lesson_id = build_app(tmp)
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
             "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
    path = f"/courses/lessons/{lesson_id}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu",
                                               "--disable-dev-shm-usage"])
            # Log in on a fast network, keep only the cookies: the measured visit starts
            # with an empty cache, as a worker opening the lesson link from a message.
            login = browser.new_context(base_url=base, **phone)
            page = login.new_page()
            page.goto("/login")
            page.fill("#login", "13800000001")
            page.fill("#password", PASSWORD)
            page.click("[data-testid=login-submit]")
            page.wait_for_selector("[data-testid=greeting]")
            state = login.storage_state()
            login.close()

            context = browser.new_context(base_url=base, storage_state=state, **phone)
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            rate = args.kbps * 1000 / 8
            cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": args.latency_ms, "downloadThroughput": rate,
                "uploadThroughput": rate})
            responses: dict[str, dict[str, object]] = {}
            cdp.on("Network.responseReceived", lambda e: responses.setdefault(
                e["requestId"], {"url": e["response"]["url"],
                                 "type": e["response"].get("mimeType", ""),
                                 "status": e["response"]["status"]}))
            cdp.on("Network.loadingFinished", lambda e: responses.get(
                e["requestId"], {}).update(wire=e["encodedDataLength"]))
            started = time.perf_counter()
            page.goto(path, wait_until="load", timeout=120_000)
            loaded_s = time.perf_counter() - started
            page.wait_for_function("document.getElementById('player').readyState >= 1",
                                   timeout=120_000)
            usable_s = time.perf_counter() - started
            timing = page.evaluate("""() => {
                const nav = performance.getEntriesByType('navigation')[0];
                const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                return {fcp: fcp ? fcp.startTime : null, dcl: nav.domContentLoadedEventEnd,
                        load: nav.loadEventEnd, ttfb: nav.responseStart};
            }""")
            time.sleep(0.5)
            rows = []
            for request_id, info in responses.items():
                url = str(info["url"])
                if url.endswith("/video") or url.startswith("data:") or "wire" not in info:
                    continue
                try:
                    body = cdp.send("Network.getResponseBody", {"requestId": request_id})
                except Exception:  # noqa: BLE001  (evicted or no body)
                    continue
                import base64

                raw = (base64.b64decode(body["body"]) if body.get("base64Encoded")
                       else body["body"].encode("utf-8"))
                mime = str(info["type"])
                sent = (len(gzip.compress(raw, 6)) if mime.startswith(TEXT_TYPES) else len(raw))
                rows.append((url.replace(base, ""), mime, len(raw), sent, int(info["wire"])))
            browser.close()
    finally:
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"command: {command}")
    print(f"profile: latency {args.latency_ms:g} ms, {args.kbps:g} kbit/s down/up "
          "(DevTools 'Slow 3G'), empty cache, phone 390x844")
    print(f"{'resource':<52} {'type':<24} {'body':>8} {'gzip':>8} {'wire':>8}")
    for url, mime, raw, sent, wire in sorted(rows):
        print(f"{url[:52]:<52} {mime[:24]:<24} {raw:>8} {sent:>8} {wire:>8}")
    total_raw = sum(r[2] for r in rows)
    total_sent = sum(r[3] for r in rows)
    total_wire = sum(r[4] for r in rows)
    print(f"{'total (excluding the video)':<77} {total_raw:>8} {total_sent:>8} {total_wire:>8}")
    print(f"compressed page weight: {total_sent / 1024:.1f} KB "
          f"(target ≤ {TARGET_BYTES // 1024} KB: "
          f"{'meets' if total_sent <= TARGET_BYTES else 'MISSES'}); on the wire from this "
          f"uncompressed dev server, headers included: {total_wire / 1024:.1f} KB")
    fcp = timing["fcp"]
    print(f"slow 3G: first byte {timing['ttfb'] / 1000:.2f} s, first contentful paint "
          f"{(fcp or 0) / 1000:.2f} s, DOMContentLoaded {timing['dcl'] / 1000:.2f} s, load "
          f"{timing['load'] / 1000:.2f} s (wall {loaded_s:.2f} s); player usable (video "
          f"metadata loaded) after {usable_s:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
