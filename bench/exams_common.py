"""Shared parts of the exam benchmarks (bench/exams_load.py, bench/exams_faults.py).

- ``Server``: gunicorn in its own process group with the top-level ``gunicorn.conf.py``.
- ``prepare``: migrate the benchmark database, load the demo bank, create N worker accounts in
  one transaction (one password hash shared by all, so it takes seconds, not minutes) and a
  bearer token for each through ``trainer.accounts.services.issue_token``.
- ``Api``: the exam API as the page and the phone use it (aiohttp on loopback).
- ``Stats``: latencies and errors of one phase, printed as throughput and p50/p95/p99.

Nothing here is imported by the application or the tests.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VENV_BIN = Path(sys.executable).parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/trainer_exbench"
DEMO_BANK = "低压电工作业题库"
PASSWORD = "bench-pass-2026"
INSTRUCTOR = "bench_instructor"
SECRET = "bench-secret-key-not-for-production-0123456789"


# -- statistics -------------------------------------------------------------------------------

def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class Stats:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    finished: list[float] = field(default_factory=list)  # time.monotonic() of each success
    errors: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def ok(self, seconds: float) -> None:
        self.latencies.append(seconds)
        self.finished.append(time.monotonic())

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def stop(self) -> Stats:
        self.ended = time.monotonic()
        return self

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def count(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0

    def p(self, q: float) -> float:
        return percentile(sorted(self.latencies), q)

    def timeline(self, step: float = 5.0) -> str:
        """p95 and max of each ``step`` seconds of the phase, to see whether a tail is spread
        out or comes in bursts."""
        buckets: dict[int, list[float]] = {}
        for done, latency in zip(self.finished, self.latencies, strict=True):
            buckets.setdefault(int((done - self.started) // step), []).append(latency)
        parts = []
        for n in sorted(buckets):
            s = sorted(buckets[n])
            parts.append(f"{n * step:.0f}s: n {len(s)} p95 {percentile(s, 95) * 1000:.0f} "
                         f"max {s[-1] * 1000:.0f}")
        return "; ".join(parts)

    def line(self) -> str:
        s = sorted(self.latencies)
        errors = sum(self.errors.values())
        detail = (" (" + ", ".join(f"{k}: {v}" for k, v in self.errors.most_common()) + ")"
                  if errors else "")
        return (f"{self.name}: {len(s)} ok in {self.elapsed:.1f} s = {self.throughput:.1f}/s; "
                f"p50 {percentile(s, 50) * 1000:.1f} ms, p95 {percentile(s, 95) * 1000:.1f} ms, "
                f"p99 {percentile(s, 99) * 1000:.1f} ms, max {(s[-1] if s else 0) * 1000:.0f} ms; "
                f"errors {errors}{detail}")


# -- the server -------------------------------------------------------------------------------

def server_env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "TRAINER_DATABASE_URL": database_url,
        "TRAINER_SECRET_KEY": SECRET,
        "TRAINER_ENV": "production",
        "TRAINER_INSTANCE_DIR": str(Path(tempfile.gettempdir()) / "trainer-bench-instance"),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


class Server:
    """gunicorn serving ``app`` on 127.0.0.1:port with ROOT/gunicorn.conf.py."""

    def __init__(self, app: str, port: int, database_url: str, extra_args: list[str] | None = None,
                 log_dir: Path | None = None) -> None:
        self.app, self.port, self.database_url = app, port, database_url
        self.extra_args = extra_args or []
        self.log_dir = log_dir or Path(tempfile.mkdtemp(prefix="exbench-"))
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [str(VENV_BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{self.port}", "--pythonpath", f"{ROOT},{ROOT / 'bench'}",
                "--error-logfile", str(self.log_dir / f"gunicorn-{self.port}.log"),
                *self.extra_args, self.app]

    def start(self, timeout: float = 60.0) -> Server:
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=server_env(self.database_url),
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        import urllib.request

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}); see {self.log_dir}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as r:
                    if r.status in (200, 404):
                        return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log_dir}")

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def describe_server_config() -> str:
    """The gunicorn settings in force, as the config file computes them."""
    namespace: dict[str, Any] = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)
    keys = ("worker_class", "workers", "threads", "keepalive", "timeout")
    return ", ".join(f"{k}={namespace.get(k)}" for k in keys if k in namespace)


# -- database set-up -------------------------------------------------------------------------

@dataclass
class Worker:
    user_id: int
    login: str
    token: str


def migrate(database_url: str) -> None:
    subprocess.run([str(VENV_BIN / "trainer"), "db", "upgrade", "heads"], cwd=ROOT, check=True,
                   env=server_env(database_url), stdout=subprocess.DEVNULL)


def prepare(database_url: str, takers: int, prefix: str = "bench") -> list[Worker]:
    """Demo bank, an instructor, ``takers`` workers with fresh tokens; one transaction."""
    import sqlalchemy as sa

    from trainer import create_app
    from trainer.accounts import services
    from trainer.accounts.models import ApiToken, User
    from trainer.db import db

    migrate(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET})
    with app.app_context():
        from trainer.questions import services as question_services
        from trainer.questions.cli import load_demo

        if question_services.find_bank(DEMO_BANK) is None:
            load_demo()
        password_hash = services.hash_password(PASSWORD)
        if services.find_by_login(INSTRUCTOR) is None:
            db.session.add(User(username=INSTRUCTOR, name="Bench instructor", role="instructor",
                                password_hash=password_hash))
        logins = [f"{prefix}{n:05d}" for n in range(takers)]
        have = set(db.session.scalars(sa.select(User.username).where(
            User.username.in_(logins))).all())
        rows = [{"username": login, "name": f"考生{login[-5:]}", "role": "worker",
                 "password_hash": password_hash, "must_change_password": False,
                 "active": True} for login in logins if login not in have]
        if rows:
            db.session.execute(sa.insert(User), rows)
        users = db.session.scalars(sa.select(User).where(User.username.in_(logins))
                                   .order_by(User.username)).all()
        # Earlier runs' tokens are revoked so the token table stays the size one run needs.
        db.session.execute(sa.update(ApiToken).where(
            ApiToken.user_id.in_([u.id for u in users]), ApiToken.revoked_at.is_(None))
            .values(revoked_at=sa.func.now()))
        workers = []
        for user in users:
            _row, token = services.issue_token(user, "bench")
            workers.append(Worker(user.id, user.login, token))
        db.session.commit()
    return workers


# -- the API -------------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status, self.body = status, body


def make_session(connections: int, timeout: float = 30.0) -> aiohttp.ClientSession:
    # A pool of keep-alive connections shared by all simulated takers, as a reverse proxy's
    # upstream pool would be; each taker has at most one request in flight.
    connector = aiohttp.TCPConnector(limit=connections, force_close=False, ttl_dns_cache=None)
    return aiohttp.ClientSession(connector=connector,
                                 timeout=aiohttp.ClientTimeout(total=timeout),
                                 headers={"Accept": "application/json"})


async def call(session: aiohttp.ClientSession, method: str, url: str, token: str | None = None,
               json: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with session.request(method, url, json=json, headers=headers) as response:
        try:
            body = await response.json(content_type=None)
        except (ValueError, aiohttp.ContentTypeError):
            body = await response.text()
        return response.status, body


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.status}"
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    return type(exc).__name__


async def instructor_token(session: aiohttp.ClientSession, base: str) -> str:
    status, body = await call(session, "POST", f"{base}/api/v1/tokens",
                              json={"login": INSTRUCTOR, "password": PASSWORD})
    if status != 201:
        raise ApiError(status, body)
    return body["token"]


async def create_exam(session: aiohttp.ClientSession, base: str, token: str, *, title: str,
                      question_count: int, time_limit_seconds: int, grace_seconds: int = 30,
                      mode: str = "formal", max_attempts: int = 2) -> int:
    status, body = await call(session, "POST", f"{base}/api/v1/exams", token, json={
        "title": title, "bank": DEMO_BANK, "question_count": question_count,
        "time_limit_seconds": time_limit_seconds, "grace_seconds": grace_seconds,
        "pass_mark": 80, "max_attempts": max_attempts, "mode": mode})
    if status != 201:
        raise ApiError(status, body)
    return int(body["id"])


@dataclass
class Attempt:
    worker: Worker
    attempt_id: int
    questions: list[dict[str, Any]]
    deadline_local: float  # time.monotonic() value of the server's deadline
    seq: int = 0
    next_question: int = 0
    acked: dict[int, Any] = field(default_factory=dict)  # question id -> last acknowledged response

    def answer_for(self, question: dict[str, Any], rng: random.Random) -> Any:
        kind = question.get("type")
        options = question.get("options") or []
        if kind == "true_false" or not options:
            return rng.random() < 0.5
        if kind == "multiple":
            return sorted(rng.sample(range(len(options)), min(2, len(options))))
        return [rng.randrange(len(options))]


async def start_attempt(session: aiohttp.ClientSession, base: str, worker: Worker,
                        exam_id: int) -> Attempt:
    sent = time.monotonic()
    status, body = await call(session, "POST", f"{base}/api/v1/exams/{exam_id}/attempts",
                              worker.token, json={})
    if status not in (200, 201):  # 200: the attempt already started (a retried start) resumes
        raise ApiError(status, body)
    # The server's seconds-left, counted from when the request was sent (the cautious side).
    return Attempt(worker, int(body["attempt_id"]), body["questions"],
                   sent + float(body["seconds_left"]))


async def save_answer(session: aiohttp.ClientSession, base: str, attempt: Attempt,
                      question: dict[str, Any], response: Any) -> None:
    attempt.seq += 1
    status, body = await call(
        session, "PUT", f"{base}/api/v1/attempts/{attempt.attempt_id}/answers/{question['id']}",
        attempt.worker.token, json={"response": response, "seq": attempt.seq})
    if status != 200:
        raise ApiError(status, body)


async def submit(session: aiohttp.ClientSession, base: str, attempt: Attempt) -> dict[str, Any]:
    status, body = await call(session, "POST",
                              f"{base}/api/v1/attempts/{attempt.attempt_id}/submit",
                              attempt.worker.token, json={})
    if status != 200:
        raise ApiError(status, body)
    return body


async def get_attempt(session: aiohttp.ClientSession, base: str,
                      attempt: Attempt) -> dict[str, Any]:
    status, body = await call(session, "GET", f"{base}/api/v1/attempts/{attempt.attempt_id}",
                              attempt.worker.token)
    if status != 200:
        raise ApiError(status, body)
    return body


async def gather_limited(coros: list[Any], limit: int) -> list[Any]:
    """Run coroutines with at most ``limit`` at once; exceptions are returned, not raised."""
    semaphore = asyncio.Semaphore(limit)

    async def one(coro: Any) -> Any:
        async with semaphore:
            return await coro

    return await asyncio.gather(*(one(c) for c in coros), return_exceptions=True)


def command_line() -> str:
    return " ".join([".venv/bin/python", *[a if " " not in a else repr(a) for a in sys.argv]])
