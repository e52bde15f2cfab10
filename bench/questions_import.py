"""Benchmark: parse a 10,000-question XLSX and a 10,000-question GIFT file.

Target: at most 3 s wall time for each on the CI machine. Run from the repository root:

    .venv/bin/python bench/questions_import.py [--questions 10000]
    .venv/bin/python bench/questions_import.py --database postgresql://postgres@127.0.0.1:5432/bench

It also measures the import end to end as the confirm step of the web import does it: parse,
then ``services.import_parsed`` into a new bank and commit (one transaction). The database is a
temporary SQLite file, or ``--database`` (or ``TRAINER_BENCH_DATABASE_URL``): a scratch
database, whose tables are created if missing and whose question tables are emptied
(TRUNCATE) afterwards; the bench refuses a database holding any other question bank.

The files are generated in a temporary folder with the project's own exporters (a mix of
single, multiple and true/false questions with Chinese text), then parsed with
``trainer.questions.importers.parse`` exactly as an upload would be (format detection,
limits, zip checks, validation, duplicate keys). Each file is parsed ``--runs`` times and the
best wall time is reported with its CPU time (other work on the machine only ever adds time).
Peak memory is the Python-heap peak seen by tracemalloc in one more parse (tracemalloc slows
parsing, so it is not timed); max RSS is the whole process, generation included.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import os  # noqa: E402

from trainer.questions.exporters import export_questions  # noqa: E402
from trainer.questions.importers import ImportLimits, parse  # noqa: E402
from trainer.questions.types import QuestionContent  # noqa: E402

TARGET_SECONDS = 3.0
WORDS = [
    *("安全", "作业", "电气", "防护", "设备", "操作", "规程", "检查"),
    *("火灾", "人员", "现场", "许可", "高处", "有限空间", "焊接"),
]


def make_questions(count: int, seed: int = 20261123) -> list[QuestionContent]:
    rng = random.Random(seed)
    questions: list[QuestionContent] = []
    for number in range(count):
        stem = f"第{number + 1}题：" + "".join(rng.choices(WORDS, k=12)) + "（ ）。"
        kind = ("single", "multiple", "true_false")[number % 3]
        category = f"电工作业/模块{number % 7 + 1}"
        difficulty = ("easy", "medium", "hard")[number % 3]
        if kind == "true_false":
            questions.append(
                QuestionContent(
                    type=kind,
                    stem=stem,
                    answer=bool(number % 2),
                    explanation="依据相关规程。",
                    category=category,
                    difficulty=difficulty,
                )
            )
            continue
        options = [f"{letter}项：" + "".join(rng.choices(WORDS, k=4)) for letter in "ABCD"]
        answer = [rng.randrange(4)] if kind == "single" else sorted(rng.sample(range(4), 2))
        questions.append(
            QuestionContent(
                type=kind,
                stem=stem,
                options=options,
                answer=answer,
                explanation="依据相关规程。",
                category=category,
                difficulty=difficulty,
            )
        )
    return questions


def measure(path: Path, expected: int, runs: int) -> tuple[float, float, float]:
    """Best wall time and its CPU time over ``runs`` parses, and the tracemalloc heap peak."""
    data = path.read_bytes()
    limits = ImportLimits(max_questions=max(expected, ImportLimits().max_questions))
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = parse(data, path.name, limits=limits)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if result.errors or len(result.questions) != expected:
            raise SystemExit(f"{path.name}: {len(result.questions)} questions, {result.errors[:3]}")
        if wall < best_wall:
            best_wall, best_cpu = wall, cpu
    tracemalloc.start()
    parse(data, path.name, limits=limits)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best_wall, best_cpu, peak / 1024 / 1024


def end_to_end(database_url: str, path: Path, expected: int, runs: int) -> list[str]:
    """Parse and insert into a fresh bank, committed; best wall time, split, heap peak."""
    import sqlalchemy as sa

    from trainer import create_app
    from trainer.db import db
    from trainer.questions import services
    from trainer.questions.models import QuestionBank

    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench-not-secret",
                      "TESTING": True})
    data = path.read_bytes()
    limits = ImportLimits(max_questions=max(expected, ImportLimits().max_questions))
    best: tuple[float, float, float, float] | None = None
    peak_mib = 0.0
    with app.app_context():
        db.create_all()
        others = db.session.scalar(sa.select(sa.func.count()).select_from(QuestionBank)
                                   .where(~QuestionBank.name.startswith("bench ")))
        if others:
            raise SystemExit(f"{database_url} holds {others} question bank(s): use a scratch "
                             "database")
        try:
            for run in range(runs + 1):
                traced = run == runs  # one more run under tracemalloc, not timed
                if traced:
                    tracemalloc.start()
                name = f"bench {path.name} {os.getpid()} {run}"
                started, cpu = time.perf_counter(), time.process_time()
                result = parse(data, path.name, limits=limits)
                parsed = time.perf_counter()
                bank, _created = services.ensure_bank(name, None)
                summary = services.import_parsed(bank, result, None, services.READY)
                db.session.commit()
                finished, cpu = time.perf_counter(), time.process_time() - cpu
                if traced:
                    peak_mib = tracemalloc.get_traced_memory()[1] / 1024 / 1024
                    tracemalloc.stop()
                if summary.imported != expected:
                    raise SystemExit(f"{path.name}: imported {summary.imported} of {expected}")
                timing = (finished - started, parsed - started, finished - parsed, cpu)
                if not traced and (best is None or timing[0] < best[0]):
                    best = timing
        finally:
            db.session.rollback()
            _empty(db)
        dialect = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()
    assert best is not None
    ok = best[0] <= TARGET_SECONDS
    return [f"{path.name} end to end on {dialect}: {best[0]:.2f} s (parse {best[1]:.2f} s + "
            f"insert and commit {best[2]:.2f} s; {best[3]:.2f} s CPU in this process; best of "
            f"{runs}; target <= "
            f"{TARGET_SECONDS:.0f} s: {'ok' if ok else 'MISSED'}), peak Python heap "
            f"{peak_mib:.1f} MiB", "ok" if ok else "MISSED"]


def _empty(db: Any) -> None:
    """Delete the bench's questions (TRUNCATE on PostgreSQL: row-by-row deletes of 10,000
    versions check the current-version foreign key with a scan of questions each time)."""
    import sqlalchemy as sa

    tables = ["question_versions", "questions", "bank_certificate_types", "bank_shares",
              "question_banks"]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    else:
        db.session.execute(sa.text("UPDATE questions SET current_version_id = NULL"))
        for table in tables:
            db.session.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608 - fixed names
    db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="parses per file; the best counts")
    parser.add_argument("--database", default=os.environ.get("TRAINER_BENCH_DATABASE_URL"),
                        help="also import end to end into this database (SQLAlchemy URL)")
    arguments = parser.parse_args()
    print("command: " + " ".join([Path(sys.executable).name, *sys.argv]))
    count = arguments.questions
    questions = make_questions(count)
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for file_format, name in (("xlsx", "bank.xlsx"), ("gift", "bank.gift")):
            path = Path(folder) / name
            path.write_bytes(export_questions(questions, file_format))
            elapsed, cpu, peak_mib = measure(path, count, arguments.runs)
            ok = elapsed <= TARGET_SECONDS
            failed |= not ok
            print(
                f"{name}: {count} questions, {path.stat().st_size / 1024:.0f} KiB, "
                f"parse {elapsed:.2f} s wall, {cpu:.2f} s CPU (best of {arguments.runs}; target "
                f"<= {TARGET_SECONDS:.0f} s: {'ok' if ok else 'MISSED'}), "
                f"peak Python heap {peak_mib:.1f} MiB"
            )
            database = arguments.database or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
            line, verdict = end_to_end(database, path, count, arguments.runs)
            failed |= verdict != "ok"
            print(line)
    max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS {max_rss_mib:.0f} MiB (Python {sys.version.split()[0]})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
