"""Benchmark: the cost the log-in rate limit adds to one log-in attempt, per store.

Run from the repository root (Redis on 127.0.0.1:6379 for the Redis figures; PostgreSQL with
--database-url postgresql://postgres@127.0.0.1:5432/DB):

    .venv/bin/python bench/security_ratelimit.py [--attempts 500] [--database-url URL]

Each attempt is what ``services.authenticate`` does around the password check: record the
attempt for the login and the address, count both, then (a success) clear the login's entries
and remove the address entry. No password hashing is timed. Prints the median and 95th
percentile per attempt for the database store and, when reachable, the Redis store, and then
a burst of parallel wrong guesses from threads to show that no more than the limit got through.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer import create_app  # noqa: E402
from trainer.accounts import ratelimit  # noqa: E402
from trainer.db import db  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/15"


def per_attempt(app, attempts: int) -> list[float]:
    times = []
    with app.app_context():
        for n in range(attempts):
            start = time.perf_counter()
            attempt = ratelimit.begin(f"worker{n % 50}", f"10.9.{n % 200}.1")
            assert attempt is not None
            ratelimit.succeeded(attempt)
            times.append(time.perf_counter() - start)
    return times


def burst(app, threads_n: int) -> int:
    """Parallel attempts on one login; returns how many were let through to a password check."""
    passed = []
    barrier = threading.Barrier(threads_n)

    def guess(n: int) -> None:
        with app.app_context():
            barrier.wait()
            if ratelimit.begin("burst-target", f"10.8.0.{n}") is not None:
                passed.append(n)
            db.session.remove()

    workers = [threading.Thread(target=guess, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(passed)


def report(name: str, times: list[float]) -> None:
    times = sorted(times)
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"{name:>10}: median {statistics.median(times) * 1000:.2f} ms, "
          f"p95 {p95 * 1000:.2f} ms per attempt ({len(times)} attempts)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attempts", type=int, default=500)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    print("command:", " ".join(["bench/security_ratelimit.py", *sys.argv[1:]]))
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"SECRET_KEY": "bench" * 8, "DATABASE_URL": url, "REDIS_URL": None,
                          "TESTING": True})
        with app.app_context():
            db.create_all()
        limit = app.config["LOGIN_MAX_FAILURES"]
        db_name = url.split(":", 1)[0]
        report(f"db ({db_name})", per_attempt(app, args.attempts))
        print(f"{'':>10}  burst of 20 parallel guesses: {burst(app, 20)} let through "
              f"(limit {limit})")
        try:
            import redis

            redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
        except Exception as exc:  # noqa: BLE001
            print(f"redis: not measured ({exc})")
        else:
            app.config["REDIS_URL"] = REDIS_URL
            client = redis.Redis.from_url(REDIS_URL)
            for key in client.scan_iter("trainer:login-failures:*"):
                client.delete(key)
            report("redis", per_attempt(app, args.attempts))
            print(f"{'':>10}  burst of 20 parallel guesses: {burst(app, 20)} let through "
                  f"(limit {limit})")
            for key in client.scan_iter("trainer:login-failures:*"):
                client.delete(key)
        with app.app_context():
            if args.database_url:
                db.session.execute(db.text("delete from login_failures"))
                db.session.commit()
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
