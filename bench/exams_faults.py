"""Fault run: kill gunicorn workers and restart PostgreSQL during the answer-save load, then
check that every answer the server acknowledged (HTTP 200) is in the database.

Run from the repository root as root (it restarts the PostgreSQL cluster holding the database):

    .venv/bin/python bench/exams_faults.py \\
        --database-url postgresql://postgres@127.0.0.1:5433/trainer_exbench --pg-cluster exbench

Give it a database (better: a cluster) of its own: the restart drops every connection to that
cluster. 1,000 takers (``--takers``) each save one answer every ~5 s; a taker answers each
question once, in order, and re-sends an answer that got no 200 after 1 s, as the exam page does
(so every acknowledged answer has exactly one expected value). Meanwhile one gunicorn worker is
SIGKILLed every ``--kill-every`` seconds and the PostgreSQL cluster is restarted once
(``pg_ctlcluster --skip-systemctl-redirect VERSION CLUSTER restart``) half-way through.
Afterwards each acknowledged answer is looked up in ``attempt_questions`` (SQL) and through
GET /api/v1/attempts/{id}; the counts are printed, lost answers listed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import exams_common as common  # noqa: E402
from exams_common import Attempt, Server, Stats  # noqa: E402


def postgres_version() -> str:
    versions = sorted((p.name for p in Path("/etc/postgresql").iterdir() if p.name.isdigit()),
                      key=int)
    return versions[-1] if versions else "15"


def original_indexes(response: Any, option_order: list[int] | None) -> Any:
    """A response in shown option positions, as original option indexes (the stored form)."""
    if not isinstance(response, list) or not option_order:
        return response
    return sorted(option_order[i] for i in response)


class Faults:
    def __init__(self, args: argparse.Namespace, server: Server) -> None:
        self.args, self.server = args, server
        self.kills = 0
        self.kill_log: list[str] = []
        self.pg_restart: str = "not done"
        self.stop = False

    async def killer(self, t0: float) -> None:
        rng = random.Random(self.args.seed)
        while not self.stop:
            await asyncio.sleep(self.args.kill_every)
            if self.stop:
                break
            pids = self.server.worker_pids()
            if not pids:
                continue
            pid = rng.choice(pids)
            try:
                os.kill(pid, signal.SIGKILL)
                self.kills += 1
                self.kill_log.append(f"{time.monotonic() - t0:.0f}s:{pid}")
            except ProcessLookupError:
                pass

    async def restart_postgres(self, t0: float, at: float) -> None:
        await asyncio.sleep(at)
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", postgres_version(),
                   self.args.pg_cluster, "restart"]
        began = time.monotonic()
        result = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True)
        took = time.monotonic() - began
        failure = f": {result.stderr.strip()}" if result.returncode else ""
        self.pg_restart = (f"`{' '.join(command)}` at {began - t0:.0f} s took {took:.1f} s, "
                           f"exit {result.returncode}{failure}")


async def saver(session: Any, base: str, attempt: Attempt, args: argparse.Namespace,
                rng: random.Random, stats: Stats, state: dict[str, Any]) -> None:
    await asyncio.sleep(rng.uniform(0, args.interval))
    questions = attempt.questions
    while not state["stop"] and attempt.next_question < len(questions):
        question = questions[attempt.next_question]
        response = state["answers"].setdefault((attempt.attempt_id, question["id"]),
                                               attempt.answer_for(question, rng))
        sent = time.monotonic()
        state["sent"] += 1
        try:
            await common.save_answer(session, base, attempt, question, response)
            stats.ok(time.monotonic() - sent)
            attempt.acked[question["id"]] = response
            attempt.next_question += 1
            pause = args.interval * rng.uniform(1 - args.jitter, 1 + args.jitter)
        except Exception as exc:
            stats.error(common.error_kind(exc))
            state["unacked"].add((attempt.attempt_id, question["id"]))
            pause = 1.0  # the page re-sends after a failed save
        await asyncio.sleep(max(0.0, sent + pause - time.monotonic()))


def stored_answers(database_url: str, attempt_ids: list[int]) -> dict[tuple[int, int], Any]:
    import sqlalchemy as sa

    from trainer.config import normalise_database_url

    engine = sa.create_engine(normalise_database_url(database_url))
    rows: dict[tuple[int, int], Any] = {}
    with engine.connect() as connection:
        for row in connection.execute(sa.text(
                "select attempt_id, question_id, response, option_order from attempt_questions "
                "where attempt_id = any(:ids)"), {"ids": attempt_ids}):
            rows[(row.attempt_id, row.question_id)] = (row.response, row.option_order)
    engine.dispose()
    return rows


def api_saved(body: dict[str, Any]) -> dict[int, Any]:
    """Saved answers from GET /api/v1/attempts/{id}, whatever reasonable shape they take."""
    answers = body.get("answers", body.get("saved_answers", body.get("responses")))
    if isinstance(answers, dict):
        return {int(k): (v.get("response") if isinstance(v, dict) else v)
                for k, v in answers.items()}
    saved: dict[int, Any] = {}
    for item in answers or body.get("questions") or []:
        if isinstance(item, dict) and "response" in item:
            qid = item.get("question_id", item.get("id"))
            if qid is not None:
                saved[int(qid)] = item["response"]
    return saved


async def main_async(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    print(f"command: {common.command_line()}")
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; gunicorn: "
          f"{common.describe_server_config()}")
    workers = common.prepare(args.database_url, args.takers)
    server = Server("trainer:create_app()", args.port, args.database_url).start()
    stats = Stats("saves under faults")
    state: dict[str, Any] = {"stop": False, "sent": 0, "unacked": set(), "answers": {}}
    faults = Faults(args, server)
    try:
        async with common.make_session(args.connections) as session:
            base = server.base_url
            instructor = await common.instructor_token(session, base)
            exam = await common.create_exam(
                session, base, instructor, question_count=args.question_count,
                title=f"bench faults {dt.datetime.now(dt.UTC):%H%M%S}", time_limit_seconds=7200)
            results = await common.gather_limited(
                [common.start_attempt(session, base, w, exam) for w in workers], 32)
            attempts = [r for r in results if isinstance(r, Attempt)]
            print(f"exam {exam}: {len(attempts)} attempts started ({len(workers) - len(attempts)} "
                  f"failed); load for {args.duration:.0f} s, a worker SIGKILLed every "
                  f"{args.kill_every:g} s, PostgreSQL restarted at {args.duration / 2:.0f} s",
                  flush=True)
            t0 = time.monotonic()
            stats.started = t0
            tasks = [asyncio.create_task(saver(session, base, a, args, rng, stats, state))
                     for a in attempts]
            chaos = [asyncio.create_task(faults.killer(t0)),
                     asyncio.create_task(faults.restart_postgres(t0, args.duration / 2))]
            await asyncio.sleep(args.duration)
            faults.stop = True
            state["stop"] = True
            await asyncio.gather(*tasks, return_exceptions=True)  # in-flight saves finish
            stats.stop()
            for task in chaos:
                task.cancel()
            await asyncio.gather(*chaos, return_exceptions=True)

            # Verification, once the server is whole again.
            await asyncio.sleep(3)
            acked = {(a.attempt_id, qid): r for a in attempts for qid, r in a.acked.items()}
            stored = stored_answers(args.database_url, [a.attempt_id for a in attempts])
            lost_sql = []
            for key, response in acked.items():
                value, order = stored.get(key, (None, None))
                if value is None or value not in (response, original_indexes(response, order)):
                    lost_sql.append((key, response, value))
            bodies = await common.gather_limited(
                [common.get_attempt(session, base, a) for a in attempts], 16)
            for _retry in range(3):  # a GET that timed out on the busy machine is asked again
                failed = [i for i, b in enumerate(bodies) if isinstance(b, BaseException)]
                again = await common.gather_limited(
                    [common.get_attempt(session, base, attempts[i]) for i in failed], 4)
                for i, body in zip(failed, again, strict=True):
                    bodies[i] = body
            lost_api, api_errors = [], 0
            for attempt, body in zip(attempts, bodies, strict=True):
                if isinstance(body, BaseException):
                    api_errors += 1
                    continue
                saved = api_saved(body)
                for qid, response in attempt.acked.items():
                    if saved.get(qid) != response:
                        lost_api.append(((attempt.attempt_id, qid), response, saved.get(qid)))
            unacked_stored = sum(
                1 for key in state["unacked"] - set(acked)
                if stored.get(key, (None, None))[0] is not None)
    finally:
        faults.stop = True
        server.stop()
    print(f"  {stats.line()}")
    print(f"  gunicorn workers SIGKILLed: {faults.kills} ({' '.join(faults.kill_log)})")
    print(f"  PostgreSQL restart: {faults.pg_restart}")
    print(f"  saves sent {state['sent']}, acknowledged (200) {len(acked)} answers; "
          f"failed sends re-sent by the takers: {sum(stats.errors.values())}")
    print(f"  acknowledged answers in the database (SQL): {len(acked) - len(lost_sql)}/{len(acked)}"
          f" -> lost {len(lost_sql)}")
    print(f"  acknowledged answers returned by GET /api/v1/attempts/{{id}}: "
          f"{len(acked) - len(lost_api)}/{len(acked)} -> lost {len(lost_api)}"
          f"{f' ({api_errors} GETs failed)' if api_errors else ''}")
    print(f"  answers whose save got no 200 but were stored anyway: {unacked_stored}")
    for key, sent, value in (lost_sql + lost_api)[:20]:
        print(f"    LOST attempt {key[0]} question {key[1]}: acknowledged {sent!r}, found {value!r}")
    return 1 if lost_sql else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TRAINER_BENCH_DATABASE_URL",
                                                                common.DEFAULT_DB))
    parser.add_argument("--pg-cluster", default="main",
                        help="the pg_ctlcluster cluster name holding the database")
    parser.add_argument("--takers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--jitter", type=float, default=0.2)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--kill-every", type=float, default=5.0)
    parser.add_argument("--question-count", type=int, default=50)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--port", type=int, default=8152)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
