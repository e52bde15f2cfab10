"""Benchmark: the lesson progress endpoint under 1,000 simulated viewers, gunicorn + PostgreSQL.

Target: p99 latency ≤ 100 ms with 1,000 viewers each reporting every 15 s (about 67 reports a
second) on this 2-core machine. Run from the repository root:

    .venv/bin/python bench/courses_progress.py \
        [--database postgresql://postgres@127.0.0.1:5432/trainer_courses_bench] \
        [--viewers 1000] [--interval 15] [--seconds 120] [--workers 4]

What it does: (re)creates the bench database, migrates it, loads the demo course, creates the
viewers (workers, enrolled, each with an API bearer token) and opens the lesson for each; starts
``gunicorn --preload 'trainer:create_app()'`` on a free port and warms it up (80 unmeasured
requests); then every viewer, starting at a random
moment within the first interval, POSTs /api/v1/lessons/<id>/progress every ``--interval``
seconds with the segment it "watched" since its last report, exactly as the player does. The
lesson is 84.8 s long, so in a 120 s run every viewer completes it and is credited hours (a
ledger write and the hours_credited signal). Latency is measured by the client from sending the
request to reading the whole response, over a new TCP connection each time (gunicorn's sync
workers close connections). Prints the figures and the command.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_P99_MS = 100.0
LESSON_KEY = "hazardous-chemicals"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def recreate_database(url: str) -> None:
    import sqlalchemy as sa

    base, name = url.rsplit("/", 1)
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1)
                             + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def prepare(env: dict[str, str], viewers: int) -> tuple[int, list[str]]:
    """Migrate, load the course, create viewers with tokens; returns (lesson id, tokens)."""
    os.environ.update(env)
    import sqlalchemy as sa
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from trainer import create_app
    from trainer.accounts.models import User
    from trainer.accounts.services import issue_token
    from trainer.courses.models import Course, Enrolment, Lesson, LessonProgress
    from trainer.courses.services import sync_courses
    from trainer.db import db

    app = create_app()
    tokens: list[str] = []
    with app.app_context():
        upgrade()
        sync_courses()
        course = db.session.scalar(sa.select(Course))
        lesson = db.session.scalar(sa.select(Lesson).where(Lesson.key == LESSON_KEY))
        password = generate_password_hash("bench-not-a-secret", method="pbkdf2:sha256:1000")
        opened = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        for i in range(viewers):
            user = User(phone=f"137{i:08d}", name=f"观众{i}", role="worker",
                        password_hash=password)
            db.session.add(user)
            db.session.flush()
            db.session.add(Enrolment(user_id=user.id, course_id=course.id))
            db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, segments=[],
                                          created_at=opened))
            _row, token = issue_token(user, "bench")
            tokens.append(token)
        db.session.commit()
        lesson_id = lesson.id
        db.engine.dispose()
    return lesson_id, tokens


async def post(port: int, path: str, token: str, body: bytes) -> tuple[int, float]:
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    elapsed = (time.perf_counter() - start) * 1000
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, elapsed


async def viewer(port: int, path: str, token: str, interval: float, until: float,
                 results: list[tuple[float, int, float]], rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, interval))
    position = 0.0
    next_at = time.perf_counter() + interval
    while True:
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        if time.perf_counter() > until:
            return
        end = min(84.8, position + interval)
        body = json.dumps({"segments": [[position, end]] if end > position else [],
                           "position": end, "event": "tick"}).encode()
        try:
            status, ms = await post(port, path, token, body)
        except OSError:
            status, ms = 0, 0.0
        results.append((time.perf_counter(), status, ms))
        position = end
        next_at += interval


async def run_load(port: int, path: str, tokens: list[str], interval: float,
                   seconds: float) -> tuple[list[tuple[float, int, float]], float, float]:
    rng = random.Random(20261123)
    results: list[tuple[float, int, float]] = []
    start = time.perf_counter()
    until = start + seconds
    await asyncio.gather(*(viewer(port, path, t, interval, until, results, rng)
                           for t in tokens))
    return results, start, time.perf_counter()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database",
                        default="postgresql://postgres@127.0.0.1:5432/trainer_courses_bench")
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    command = " ".join(shlex.quote(a) for a in [".venv/bin/python", *sys.argv])

    media = tempfile.mkdtemp(prefix="bench-media-")
    env = {
        "TRAINER_ENV": "development", "TRAINER_DATABASE_URL": args.database,
        "TRAINER_SECRET_KEY": "bench-secret-key-" + "x" * 32, "TRAINER_MEDIA_ROOT": media,
        "TRAINER_INSTANCE_DIR": media,
    }
    print(f"preparing: {args.database}, {args.viewers} viewers …", flush=True)
    recreate_database(args.database)
    t0 = time.perf_counter()
    lesson_id, tokens = prepare(env, args.viewers)
    print(f"prepared in {time.perf_counter() - t0:.1f} s", flush=True)

    load_before = f"{os.getloadavg()[0]:.1f}"
    port = free_port()
    gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    server = subprocess.Popen(
        [str(gunicorn), "--workers", str(args.workers), "--bind", f"127.0.0.1:{port}",
         "--preload", "--log-level", "warning", "trainer:create_app()"],
        cwd=ROOT, env={**os.environ, **env})
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.3)
        path = f"/api/v1/lessons/{lesson_id}/progress"
        # Warm up (not measured): every worker connects to the database and fills its caches.
        warm = json.dumps({"segments": [], "position": 0}).encode()

        async def warm_up() -> None:
            for _ in range(10):
                await asyncio.gather(*(post(port, path, t, warm) for t in tokens[:8]))

        asyncio.run(warm_up())

        # One request at a time (no queueing): what a report costs the server by itself.
        async def sequential() -> list[float]:
            out = []
            for i in range(200):
                status, ms = await post(port, path, tokens[i % len(tokens)], warm)
                if status == 200:
                    out.append(ms)
            return out

        alone = asyncio.run(sequential())
        print(f"load: {args.viewers} viewers × 1 report / {args.interval:g} s for "
              f"{args.seconds:g} s against gunicorn --workers {args.workers} …", flush=True)
        results, start, end = asyncio.run(
            run_load(port, path, tokens, args.interval, args.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)

    # Steady state: from the end of the first interval (every viewer has started) to the end.
    until = start + args.seconds
    steady = [r for r in results if start + args.interval <= r[0] <= until]
    latencies = [ms for _t, status, ms in steady if status == 200]
    statuses: dict[int, int] = {}
    for _t, status, _ms in results:
        statuses[status] = statuses.get(status, 0) + 1
    span = until - (start + args.interval)
    p99 = percentile(latencies, 99)
    import sqlalchemy as sa

    engine = sa.create_engine(args.database.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        credited = conn.scalar(sa.text("select count(*) from training_hours"))
        watched = conn.scalar(sa.text("select avg(watched_seconds) from lesson_progress"))
    engine.dispose()
    print()
    print(f"command: {command}")
    print(f"machine: {os.cpu_count()} CPUs, load average before {load_before}, after "
          f"{os.getloadavg()[0]:.1f} (other people's work shares these CPUs); PostgreSQL at "
          f"{args.database.rsplit('@', 1)[-1]}")
    print(f"requests: {len(results)} in {end - start:.1f} s; status counts: "
          f"{dict(sorted(statuses.items()))}")
    print(f"steady state ({span:.1f} s after the first interval): {len(steady)} requests, "
          f"throughput {len(steady) / span:.1f} req/s (offered "
          f"{args.viewers / args.interval:.1f} req/s)")
    print(f"one request at a time (200 requests, no queueing): p50 {percentile(alone, 50):.1f} "
          f"p99 {percentile(alone, 99):.1f} ms")
    if latencies:
        print(f"latency ms under load (200s): p50 {percentile(latencies, 50):.1f}  p90 "
              f"{percentile(latencies, 90):.1f}  p99 {p99:.1f}  max {max(latencies):.1f}  "
              f"mean {statistics.mean(latencies):.1f}")
    print(f"ledger rows credited: {credited}; mean watched seconds: {float(watched or 0):.1f}")
    verdict = "meets" if p99 <= TARGET_P99_MS else "MISSES"
    print(f"target p99 ≤ {TARGET_P99_MS:g} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
