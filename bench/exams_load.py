"""Benchmark: the exam API under a crowd of takers, on gunicorn and PostgreSQL.

Run from the repository root (PostgreSQL database of its own; it is migrated and filled):

    .venv/bin/python bench/exams_load.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/trainer_exbench

Phases (``--phases``, all by default), each printed as throughput, p50/p95/p99 and errors:

1. ``start``: 1,000 takers (``--takers``) start exam A within 60 s (``--start-window``):
   POST /api/v1/exams/{id}/attempts. Target p95 ≤ 1 s.
2. ``steady``: each taker saves an answer every ~5 s (``--interval``, ±20 % jitter) for
   ``--duration`` seconds: PUT /api/v1/attempts/{aid}/answers/{qid}.
   Target p95 ≤ 50 ms, p99 ≤ 300 ms, 0 errors.
3. ``ramp``: the same takers save more and more often (×1.5, ×2, ×3 …) until p99 passes 1 s;
   prints the load (saves/s, and takers at one save per 5 s) where it did.
4. ``saturate``: ``--concurrency`` clients save back to back (no think time) against the app,
   then against bench/ceiling_app.py (one upsert per request, same gunicorn settings, same
   database), alternating for ``--saturate-rounds`` rounds of ``--saturate-seconds`` each
   (the machine's speed drifts); prints each throughput and the ratio of the totals.
   Target ≥ 50 %.
5. ``submit``: exam B (``--submit-exam-seconds`` long): 1,000 takers start, save every ~5 s and
   submit at a random moment of their last 30 s. Every submit must be accepted (200, status
   submitted) before the deadline plus grace; 50 of them submit a second time and must get the
   same result.

The load generator is this process (asyncio + aiohttp, a pool of ``--connections`` keep-alive
connections shared by all takers, like a proxy's upstream pool); gunicorn runs in its own
processes with the top-level gunicorn.conf.py. The machine is shared: the load average is printed
with each phase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import exams_common as common  # noqa: E402
from exams_common import Attempt, Server, Stats  # noqa: E402

TARGET_P95, TARGET_P99, CEILING_SHARE, START_P95 = 0.050, 0.300, 0.50, 1.0


class Load:
    """Takers saving answers; the orchestrator switches the phase and the interval."""

    def __init__(self, base: str, interval: float, jitter: float, seed: int) -> None:
        self.base = base
        self.interval = interval
        self.jitter = jitter
        self.rng = random.Random(seed)
        self.phase: Stats | None = None  # None: requests are made but not recorded
        self.stopping = False

    async def taker(self, session: Any, attempt: Attempt) -> None:
        await asyncio.sleep(self.rng.uniform(0, self.interval))
        while not self.stopping:
            sent = time.monotonic()
            phase = self.phase
            question = attempt.questions[attempt.next_question % len(attempt.questions)]
            attempt.next_question += 1
            try:
                await common.save_answer(session, self.base, attempt, question,
                                         attempt.answer_for(question, self.rng))
                if phase is not None:
                    phase.ok(time.monotonic() - sent)
            except Exception as exc:  # every failure is counted, by kind
                if phase is not None:
                    phase.error(common.error_kind(exc))
            pause = self.interval * self.rng.uniform(1 - self.jitter, 1 + self.jitter)
            await asyncio.sleep(max(0.0, sent + pause - time.monotonic()))


async def drain(database_url: str, limit: float = 180.0) -> float:
    """Wait until the server has worked off requests that clients gave up on (timeouts): the
    next phase must not share the server with a backlog. Idle = no other session of the
    benchmark database is running a statement, three checks in a row. Returns seconds waited."""
    import psycopg

    began = time.monotonic()
    quiet = 0
    dsn = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        while quiet < 3 and time.monotonic() - began < limit:
            busy = connection.execute(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and pid <> pg_backend_pid() and state <> 'idle'").fetchone()
            quiet = quiet + 1 if busy and busy[0] == 0 else 0
            await asyncio.sleep(0.5)
    return time.monotonic() - began


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def report(stats: Stats, extra: str = "") -> None:
    print(f"  {stats.line()}{extra}")
    print(f"    ({loadavg()})", flush=True)


async def start_all(session: Any, base: str, workers: list[common.Worker], exam_id: int,
                    window: float, stats: Stats, rng: random.Random) -> list[Attempt]:
    """Each worker starts at a random moment of ``window`` seconds; a failed start is retried
    (as the page does) up to 9 times, every try counted in ``stats``."""
    async def one(worker: common.Worker) -> Attempt | None:
        await asyncio.sleep(rng.uniform(0, window))
        for _try in range(10):
            sent = time.monotonic()
            try:
                attempt = await common.start_attempt(session, base, worker, exam_id)
                stats.ok(time.monotonic() - sent)
                return attempt
            except Exception as exc:
                stats.error(common.error_kind(exc))
                await asyncio.sleep(1)
        return None

    results = await asyncio.gather(*(one(w) for w in workers))
    return [a for a in results if a is not None]


async def closed_loop(session: Any, url_for: Any, body_for: Any, token_for: Any,
                      concurrency: int, warmup: float, seconds: float, name: str) -> Stats:
    stats = Stats(name)
    record = False
    stop = False

    async def client(n: int) -> None:
        i = n
        while not stop:
            sent = time.monotonic()
            try:
                status, body = await common.call(session, "PUT", url_for(i), token_for(i),
                                                 json=body_for(i))
                if status != 200:
                    raise common.ApiError(status, body)
                if record:
                    stats.ok(time.monotonic() - sent)
            except Exception as exc:
                if record:
                    stats.error(common.error_kind(exc))
            i += concurrency

    tasks = [asyncio.create_task(client(n)) for n in range(concurrency)]
    await asyncio.sleep(warmup)
    record = True
    stats.started = time.monotonic()
    await asyncio.sleep(seconds)
    stats.stop()
    stop = True
    await asyncio.gather(*tasks, return_exceptions=True)
    return stats


async def main_async(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    phases = set(args.phases.split(","))
    print(f"command: {common.command_line()}")
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; {loadavg()}")
    print(f"gunicorn: {common.describe_server_config()} (gunicorn.conf.py)")
    print(f"database: {args.database_url.rsplit('@', 1)[-1]}; takers {args.takers}, "
          f"save every {args.interval} s ±{args.jitter:.0%}, {args.connections} client connections")
    t0 = time.monotonic()
    workers = common.prepare(args.database_url, args.takers)
    print(f"set-up: {len(workers)} workers with tokens, demo bank, migrations in "
          f"{time.monotonic() - t0:.1f} s", flush=True)
    verdicts: list[str] = []

    server = Server("trainer:create_app()", args.port, args.database_url).start()
    try:
        base = server.base_url
        async with common.make_session(args.connections) as session:
            instructor = await common.instructor_token(session, base)
            stamp = dt.datetime.now(dt.UTC).strftime("%H%M%S")
            if phases & {"start", "steady", "ramp", "saturate"}:
                budget = args.start_window + args.duration + 60 * 30
                exam_a = await common.create_exam(
                    session, base, instructor, title=f"bench load {stamp}",
                    question_count=args.question_count, time_limit_seconds=budget)
                print(f"\nexam A (id {exam_a}): {args.question_count} questions from {common.DEMO_BANK}")
                starts = Stats("start spike: POST …/attempts")
                load = Load(base, args.interval, args.jitter, args.seed)
                attempts: list[Attempt] = []
                takers: list[asyncio.Task[None]] = []

                settled = 0
                all_settled = asyncio.Event()

                async def start_then_save(worker: common.Worker) -> None:
                    nonlocal settled
                    got = await start_all(session, base, [worker], exam_a, args.start_window,
                                          starts, rng)
                    settled += 1
                    if settled == len(workers):
                        all_settled.set()
                    if got:
                        attempts.append(got[0])
                        await load.taker(session, got[0])

                takers = [asyncio.create_task(start_then_save(w)) for w in workers]
                print(f"phase start: {args.takers} starts spread over {args.start_window:.0f} s "
                      "(saves begin as each taker starts)", flush=True)
                load.phase = Stats("saves during the start spike")
                await asyncio.sleep(args.start_window)
                # Every taker has started (or given up) before the steady phase.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(all_settled.wait(), timeout=300)
                report(starts.stop(), f"  [target p95 ≤ {START_P95:.0f} s; "
                                      f"{len(attempts)}/{len(workers)} started]")
                report(load.phase.stop())
                verdicts.append(f"start spike p95 {starts.p(95) * 1000:.0f} ms "
                                f"{'≤' if starts.p(95) <= START_P95 else '>'} 1 s, "
                                f"{sum(starts.errors.values())} errors")

                if "steady" in phases or "ramp" in phases:
                    print(f"phase steady: {len(attempts)} takers, one save every ~{args.interval} s, "
                          f"{args.duration:.0f} s", flush=True)
                    steady = load.phase = Stats("steady: PUT …/answers/{qid}")
                    await asyncio.sleep(args.duration)
                    load.phase = None
                    report(steady.stop(), f"  [target p95 ≤ {TARGET_P95 * 1000:.0f} ms, "
                                          f"p99 ≤ {TARGET_P99 * 1000:.0f} ms, 0 errors]")
                    if args.timeline:
                        print(f"    every 5 s: {steady.timeline()}")
                    errors = sum(steady.errors.values())
                    met = steady.p(95) <= TARGET_P95 and steady.p(99) <= TARGET_P99 and not errors
                    verdicts.append(
                        f"{len(attempts)} takers: {steady.throughput:.0f} saves/s, p95 "
                        f"{steady.p(95) * 1000:.1f} ms, p99 {steady.p(99) * 1000:.1f} ms, "
                        f"{errors} errors: {'target met' if met else 'TARGET MISSED'}")

                if "ramp" in phases and steady.p(99) > 1.0:
                    verdicts.append("p99 was over 1 s at the base load already: no ramp")
                elif "ramp" in phases:
                    print(f"phase ramp: shorter intervals, {args.ramp_step:.0f} s each, until p99 > 1 s",
                          flush=True)
                    passed_at = None
                    for multiplier in (1.5, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64):
                        old = load.interval
                        load.interval = args.interval / multiplier
                        load.phase = None
                        await asyncio.sleep(old * (1 + args.jitter))  # every taker on the new pace
                        offered = len(attempts) / load.interval
                        step = load.phase = Stats(
                            f"ramp ×{multiplier:g} (offered {offered:.0f}/s = "
                            f"{offered * args.interval:.0f} takers at one save per {args.interval:g} s)")
                        await asyncio.sleep(args.ramp_step)
                        load.phase = None
                        report(step.stop())
                        if step.p(99) > 1.0:
                            passed_at = (step, offered)
                            break
                    if passed_at:
                        step, offered = passed_at
                        verdicts.append(
                            f"p99 passed 1 s at offered {offered:.0f} saves/s (= "
                            f"{offered * args.interval:.0f} takers saving every {args.interval:g} s); "
                            f"served {step.throughput:.0f}/s, p99 {step.p(99):.2f} s")
                    else:
                        verdicts.append("p99 stayed under 1 s at every ramp step")
                load.stopping = True
                for task in takers:
                    task.cancel()
                await asyncio.gather(*takers, return_exceptions=True)

                waited = await drain(args.database_url)
                if waited > 2:
                    print(f"(waited {waited:.0f} s for the server to work off abandoned requests)")
                if "saturate" in phases and attempts:
                    verdicts.append(await saturate_phase(args, session, server, attempts))

            if "submit" in phases:
                await drain(args.database_url)
                verdicts += await submit_phase(args, session, server.base_url, instructor, workers,
                                               stamp, rng)
    finally:
        server.stop()
    print("\nsummary:")
    for line in verdicts:
        print(f"  - {line}")
    return 0


async def saturate_phase(args: argparse.Namespace, session: Any, server: Server,
                         attempts: list[Attempt]) -> str:
    """Saves back to back against the app and against the ceiling app, alternating."""
    print(f"phase saturate: {args.concurrency} clients back to back, {args.saturate_rounds} "
          f"rounds of app then ceiling, {args.saturate_seconds:.0f} s each after "
          f"{args.warmup:.0f} s warm-up", flush=True)
    answer_rng = random.Random(args.seed)

    def pick(i: int) -> tuple[Attempt, dict[str, Any]]:
        attempt = attempts[i % len(attempts)]
        return attempt, attempt.questions[(i // len(attempts)) % len(attempt.questions)]

    def body(i: int) -> Any:
        attempt, question = pick(i)
        attempt.seq += 1
        return {"response": attempt.answer_for(question, answer_rng), "seq": attempt.seq}

    def app_url(i: int) -> str:
        attempt, question = pick(i)
        return f"{server.base_url}/api/v1/attempts/{attempt.attempt_id}/answers/{question['id']}"

    ceiling_server = Server("ceiling_app:create_app()", args.ceiling_port,
                            args.database_url).start()

    def ceiling_url(i: int) -> str:
        attempt, question = pick(i)
        return f"{ceiling_server.base_url}/ceiling/{attempt.attempt_id}/{question['id']}"

    # Both servers are up (the idle one costs next to nothing) and the measurements alternate,
    # app, ceiling, app, ceiling …: this shared machine's speed drifts by tens of per cent
    # over minutes, and alternating spreads that drift over both sides of the ratio.
    apps: list[Stats] = []
    ceilings: list[Stats] = []
    try:
        for n in range(1, args.saturate_rounds + 1):
            app = await closed_loop(session, app_url, body, lambda i: pick(i)[0].worker.token,
                                    args.concurrency, args.warmup, args.saturate_seconds,
                                    f"saturated #{n}: app answer save (PUT …/answers/{{qid}})")
            report(app)
            apps.append(app)
            ceiling = await closed_loop(session, ceiling_url, body, lambda i: None,
                                        args.concurrency, args.warmup, args.saturate_seconds,
                                        f"saturated #{n}: ceiling (one upsert per request)")
            report(ceiling)
            ceilings.append(ceiling)
    finally:
        ceiling_server.stop()
    app_rate = sum(len(a.latencies) for a in apps) / sum(a.elapsed for a in apps)
    ceiling_rate = sum(len(c.latencies) for c in ceilings) / sum(c.elapsed for c in ceilings)
    shares = ", ".join(f"{a.throughput / c.throughput:.0%}" for a, c in zip(apps, ceilings,
                                                                          strict=True)
                       if c.throughput)
    share = app_rate / ceiling_rate if ceiling_rate else 0
    return (f"saturation: app {app_rate:.0f} saves/s vs ceiling {ceiling_rate:.0f}/s"
            f" = {share:.0%} over {len(apps)} alternating rounds (each: {shares}) "
            f"({'≥' if share >= CEILING_SHARE else '<'} {CEILING_SHARE:.0%} target)")


async def submit_phase(args: argparse.Namespace, session: Any, base: str, instructor: str,
                       workers: list[common.Worker], stamp: str, rng: random.Random) -> list[str]:
    grace = 30
    exam_b = await common.create_exam(
        session, base, instructor, title=f"bench submit {stamp}",
        question_count=args.question_count, time_limit_seconds=args.submit_exam_seconds,
        grace_seconds=grace)
    print(f"\nphase submit: exam B (id {exam_b}), {args.submit_exam_seconds} s, grace {grace} s; "
          f"{len(workers)} takers start (32 at a time), save every ~{args.interval} s, "
          "submit in their last 30 s", flush=True)
    starts = Stats("starts (32 at a time)")
    results = await common.gather_limited(
        [timed_start(session, base, w, exam_b, starts) for w in workers], 32)
    attempts = [r for r in results if isinstance(r, Attempt)]
    report(starts.stop())
    saves = Stats("saves during the submit window")
    submits = Stats("submit spike: POST …/submit")
    late: list[float] = []
    outcomes: dict[int, Any] = {}
    load = Load(base, args.interval, args.jitter, args.seed + 1)
    load.phase = saves
    first_submit = last_submit = 0.0

    async def take(attempt: Attempt) -> None:
        nonlocal first_submit, last_submit
        submit_at = attempt.deadline_local - rng.uniform(0, 30)
        saver = asyncio.create_task(load.taker(session, attempt))
        await asyncio.sleep(max(0.0, submit_at - time.monotonic()))
        saver.cancel()
        await asyncio.gather(saver, return_exceptions=True)
        sent = time.monotonic()
        first_submit = min(first_submit or sent, sent)
        last_submit = max(last_submit, sent)
        try:
            body = await common.submit(session, base, attempt)
            done = time.monotonic()
            submits.ok(done - sent)
            outcomes[attempt.attempt_id] = body
            if done > attempt.deadline_local + grace or body.get("status") != "submitted":
                late.append(done - attempt.deadline_local)
        except Exception as exc:
            submits.error(common.error_kind(exc))

    await asyncio.gather(*(take(a) for a in attempts))
    report(saves.stop())
    report(submits.stop(), f"  [sent within {last_submit - first_submit:.0f} s]")
    again = Stats("second submit of 50 attempts")
    same = 0
    for attempt in [a for a in attempts if a.attempt_id in outcomes][:50]:
        sent = time.monotonic()
        try:
            body = await common.submit(session, base, attempt)
            again.ok(time.monotonic() - sent)
            first = outcomes.get(attempt.attempt_id) or {}
            same += all(body.get(k) == first.get(k) for k in ("score", "passed", "status"))
        except Exception as exc:
            again.error(common.error_kind(exc))
    report(again.stop(), f"  [same result: {same}/{again.count}]")
    accepted = len(submits.latencies) - len(late)
    return [
        f"submit spike: {accepted}/{len(attempts)} accepted within the grace period "
        f"({sum(submits.errors.values())} errors, {len(late)} late or not 'submitted'), "
        f"p95 {submits.p(95) * 1000:.0f} ms, p99 {submits.p(99) * 1000:.0f} ms; "
        f"second submit same result {same}/{again.count}",
    ]


async def timed_start(session: Any, base: str, worker: common.Worker, exam_id: int,
                      stats: Stats) -> Attempt:
    sent = time.monotonic()
    try:
        attempt = await common.start_attempt(session, base, worker, exam_id)
    except Exception as exc:
        stats.error(common.error_kind(exc))
        raise
    stats.ok(time.monotonic() - sent)
    return attempt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("TRAINER_BENCH_DATABASE_URL",
                                                                common.DEFAULT_DB))
    parser.add_argument("--takers", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--jitter", type=float, default=0.2)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--start-window", type=float, default=60.0)
    parser.add_argument("--question-count", type=int, default=50)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--saturate-seconds", type=float, default=10.0)
    parser.add_argument("--saturate-rounds", type=int, default=3)
    parser.add_argument("--ramp-step", type=float, default=20.0)
    parser.add_argument("--submit-exam-seconds", type=int, default=90)
    parser.add_argument("--port", type=int, default=8150)
    parser.add_argument("--ceiling-port", type=int, default=8151)
    parser.add_argument("--phases", default="start,steady,ramp,saturate,submit")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--timeline", action="store_true",
                        help="print the steady phase's p95 and max for every 5 s")
    args = parser.parse_args()
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
