"""Benchmark: what one exam API call costs the application, without HTTP or a load generator.

Drives the app through Flask's test client against PostgreSQL (or SQLite) and prints, per call:
wall time and the process's own CPU time (medians of ten batches: this shared machine's speed
drifts), and the SQL statements issued. It is the figure to watch when changing the save, start
or submit path; bench/exams_load.py measures the whole stack under a crowd.

    .venv/bin/python bench/exams_inprocess.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/trainer_exbench [--profile save]

Calls measured: ``save`` (PUT …/answers/{qid} with a seq, to a paper this process knows),
``start`` (POST …/exams/{id}/attempts, a 50-question paper) and ``submit`` (POST …/submit of an
attempt with 40 answers). ``--profile CALL`` prints a cProfile listing of that call.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import exams_common as common  # noqa: E402


def measure(name: str, calls: list[Callable[[], None]], counter: list[int],
            batches: int = 10) -> None:
    size = max(1, len(calls) // batches)
    walls, cpus = [], []
    counter[0] = 0
    for start in range(0, size * batches, size):
        batch = calls[start:start + size]
        wall, cpu = time.perf_counter(), time.process_time()
        for call in batch:
            call()
        walls.append((time.perf_counter() - wall) / len(batch))
        cpus.append((time.process_time() - cpu) / len(batch))
    print(f"{name}: {size * batches} calls; wall {statistics.median(walls) * 1000:.2f} ms, "
          f"app CPU {statistics.median(cpus) * 1000:.2f} ms per call (medians of {batches} "
          f"batches); {counter[0] / (size * batches):.1f} SQL statements per call", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get(
        "TRAINER_BENCH_DATABASE_URL", common.DEFAULT_DB))
    parser.add_argument("--saves", type=int, default=3000)
    parser.add_argument("--attempts", type=int, default=200)
    parser.add_argument("--profile", choices=["save", "start", "submit"])
    args = parser.parse_args()
    print(f"command: {common.command_line()}")
    print(f"database: {args.database_url.rsplit('@', 1)[-1]}; {os.cpu_count()} cores; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    workers = common.prepare(args.database_url, 2 * args.attempts + 1, prefix="inproc")
    os.environ.update(common.server_env(args.database_url))
    import sqlalchemy as sa

    from trainer import create_app
    from trainer.db import db

    app = create_app()
    client = app.test_client()
    response = client.post("/api/v1/tokens", json={"login": common.INSTRUCTOR,
                                                   "password": common.PASSWORD})
    instructor = {"Authorization": "Bearer " + response.get_json()["token"]}
    response = client.post("/api/v1/exams", headers=instructor, json={
        "title": f"in-process {time.time():.0f}", "bank": common.DEMO_BANK,
        "question_count": 50, "time_limit_seconds": 36000, "max_attempts": 2})
    exam_id = response.get_json()["id"]
    counter = [0]
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def count(*_args: Any, **_kwargs: Any) -> None:
        counter[0] += 1

    def header(worker: common.Worker) -> dict[str, str]:
        return {"Authorization": "Bearer " + worker.token}

    def start(worker: common.Worker) -> dict[str, Any]:
        response = client.post(f"/api/v1/exams/{exam_id}/attempts", headers=header(worker))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def answer(question: dict[str, Any]) -> Any:
        return True if question["type"] == "true_false" else [0]

    def save_call(worker: common.Worker, attempt: dict[str, Any], question: dict[str, Any],
                  seq: int) -> Callable[[], None]:
        url = f"/api/v1/attempts/{attempt['attempt_id']}/answers/{question['id']}"

        def call() -> None:
            response = client.put(url, headers=header(worker),
                                  json={"response": answer(question), "seq": seq})
            assert response.status_code == 200, response.get_json()
        return call

    # save: one worker's attempt, every question in turn, after one save has read the paper
    saver = workers[0]
    attempt = start(saver)
    questions = attempt["questions"]
    save_call(saver, attempt, questions[0], 1)()
    saves = [save_call(saver, attempt, questions[n % len(questions)], n + 2)
             for n in range(args.saves)]
    # start: fresh workers; submit: the same workers' attempts with 40 answers each
    started: list[tuple[common.Worker, dict[str, Any]]] = []

    def start_call(worker: common.Worker) -> Callable[[], None]:
        def call() -> None:
            started.append((worker, start(worker)))
        return call

    starts = [start_call(w) for w in workers[1:1 + args.attempts]]

    def submit_call(worker: common.Worker, attempt: dict[str, Any]) -> Callable[[], None]:
        def call() -> None:
            response = client.post(f"/api/v1/attempts/{attempt['attempt_id']}/submit",
                                   headers=header(worker))
            assert response.status_code == 200, response.get_json()
        return call

    measure("save (known paper)", saves, counter)
    measure("start (50 questions)", starts, counter)
    for n, (worker, paper) in enumerate(started):
        for question in paper["questions"][:40]:
            save_call(worker, paper, question, n + 1)()
    measure("submit (40 of 50 answered)", [submit_call(w, a) for w, a in started], counter)

    if args.profile:
        spare = workers[1 + args.attempts:1 + 2 * args.attempts]
        if args.profile == "save":
            calls = [save_call(saver, attempt, questions[n % len(questions)], 10**6 + n)
                     for n in range(args.saves)]
        elif args.profile == "start":
            calls = [start_call(w) for w in spare]
        else:
            papers = [(w, start(w)) for w in spare]
            calls = [submit_call(w, a) for w, a in papers]
        profiler = cProfile.Profile()
        profiler.enable()
        for call in calls:
            call()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main())
