"""Question-bank use cases: import a parsed file, edit with versions, export. Flush, never
commit: the view or command commits, so an import is one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from trainer.accounts.models import User
from trainer.audit import services as audit
from trainer.clock import utcnow
from trainer.db import db
from trainer.questions.duplicates import duplicate_key
from trainer.questions.import_result import ParseResult
from trainer.questions.models import (
    Question,
    QuestionBank,
    QuestionVersion,
    bank_certificate_types,
    bank_shares,
)
from trainer.questions.types import QuestionContent, validate

READY = "ready"
DRAFT = "draft"


def find_bank(name: str) -> QuestionBank | None:
    return db.session.scalar(sa.select(QuestionBank).where(QuestionBank.name == name.strip()))


def ensure_bank(name: str, owner: User | None, certificate_types: Sequence[str] = (),
                description: str = "") -> tuple[QuestionBank, bool]:
    bank = find_bank(name)
    created = bank is None
    if bank is None:
        bank = QuestionBank(name=name.strip(), owner=owner, description=description)
        db.session.add(bank)
        db.session.flush()
    have = set(bank.certificate_types)
    for code in certificate_types:
        if code not in have:
            db.session.execute(bank_certificate_types.insert().values(bank_id=bank.id,
                                                                      type_code=code))
    db.session.flush()
    return bank, created


def can_edit_bank(user: User, bank: QuestionBank) -> bool:
    """Admins edit every bank; instructors their own, shared ones, and owner-less banks."""
    if user.role == "admin":
        return True
    if user.role != "instructor":
        return False
    return bank.owner_id is None or bank.owner_id == user.id or user in bank.shared_with


def can_see_bank(user: User, bank: QuestionBank) -> bool:
    """Who may open a bank's pages: the same people who may edit it (workers never)."""
    return can_edit_bank(user, bank)


def can_manage_bank(user: User, bank: QuestionBank) -> bool:
    """Who may change a bank's name, certificate types and shares: its owner and admins."""
    return user.role == "admin" or (bank.owner_id is not None and bank.owner_id == user.id)


def visible_banks_query(user: User) -> sa.Select[QuestionBank]:
    """Banks the user may open: admins all; instructors their own, shared and owner-less."""
    query = sa.select(QuestionBank)
    if user.role == "admin":
        return query
    if user.role != "instructor":
        return query.where(sa.false())
    shared = sa.select(bank_shares.c.bank_id).where(bank_shares.c.user_id == user.id)
    return query.where(sa.or_(QuestionBank.owner_id.is_(None), QuestionBank.owner_id == user.id,
                              QuestionBank.id.in_(shared)))


def question_counts(bank_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """``{bank_id: {"draft": n, "ready": m}}`` in one query."""
    counts: dict[int, dict[str, int]] = {bank_id: {} for bank_id in bank_ids}
    if not bank_ids:
        return counts
    rows = db.session.execute(
        sa.select(Question.bank_id, Question.status, sa.func.count())
        .where(Question.bank_id.in_(bank_ids)).group_by(Question.bank_id, Question.status))
    for bank_id, status, count in rows:
        counts[bank_id][status] = count
    return counts


class BankError(ValueError):
    def __init__(self, field: str, message: object) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


def save_bank(bank: QuestionBank | None, *, name: str, description: str,
              certificate_types: Sequence[str], shared_with: Sequence[User],
              actor: User) -> QuestionBank:
    """Create (``bank`` None, owned by ``actor``) or update a bank. Raises BankError."""
    from flask_babel import gettext as _

    name = name.strip()
    clash = find_bank(name)
    if clash is not None and clash is not bank:
        raise BankError("name", _("A bank with this name exists already."))
    creating = bank is None
    if bank is None:
        bank = QuestionBank(name=name, owner=actor, description=description)
        db.session.add(bank)
    before = None if creating else {"name": bank.name, "types": bank.certificate_types,
                                    "shared": sorted(u.id for u in bank.shared_with)}
    bank.name, bank.description = name, description
    bank.shared_with = [u for u in shared_with if u.role == "instructor" and u is not bank.owner]
    db.session.flush()
    db.session.execute(bank_certificate_types.delete()
                       .where(bank_certificate_types.c.bank_id == bank.id))
    for code in dict.fromkeys(certificate_types):
        db.session.execute(bank_certificate_types.insert().values(bank_id=bank.id,
                                                                  type_code=code))
    db.session.flush()
    audit.record(actor, "bank.create" if creating else "bank.edit", "bank", bank.id,
                 before=before, after={"name": bank.name, "types": list(certificate_types),
                                       "shared": sorted(u.id for u in bank.shared_with)})
    return bank


def existing_keys(bank: QuestionBank) -> set[str]:
    return set(db.session.scalars(sa.select(Question.duplicate_key)
                                  .where(Question.bank_id == bank.id)))


def add_question(bank: QuestionBank, content: QuestionContent, actor: User | None,
                 status: str = DRAFT) -> Question:
    question = Question(bank=bank, status=status, type=content.type, category=content.category,
                        difficulty=content.difficulty, duplicate_key=duplicate_key(content))
    db.session.add(question)
    db.session.flush()
    version = _new_version(question, content, actor, number=1)
    question.current_version = version
    return question


IMAGE_PREFIX = "questions/images/"
_IMAGE_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}


def store_images(content: QuestionContent) -> list[str]:
    """Write a question's (already re-encoded) images to media storage; their keys.

    Keys carry the SHA-256 of the bytes, so the same image is stored once and a key never
    changes meaning."""
    if not content.images:
        return []
    import hashlib
    import tempfile
    from pathlib import Path

    from trainer.courses.storage import get_storage

    storage = get_storage()
    keys = []
    for image in content.images:
        extension = _IMAGE_EXTENSIONS.get(image.mime)
        if extension is None:
            continue
        key = f"{IMAGE_PREFIX}{hashlib.sha256(image.data).hexdigest()}.{extension}"
        if not storage.exists(key):
            with tempfile.TemporaryDirectory() as folder:
                source = Path(folder) / "image"
                source.write_bytes(image.data)
                storage.put_file(key, source)
        keys.append(key)
    return keys


def _new_version(question: Question, content: QuestionContent, actor: User | None,
                 number: int, images: list[str] | None = None) -> QuestionVersion:
    version = QuestionVersion(
        question_id=question.id, number=number, type=content.type, stem=content.stem,
        options=list(content.options),
        answer=content.answer if isinstance(content.answer, bool) else sorted(content.answer),
        explanation=content.explanation, category=content.category,
        difficulty=content.difficulty,
        images=store_images(content) if images is None else list(images),
        created_by_id=actor.id if actor else None)
    db.session.add(version)
    db.session.flush()
    return version


class InvalidContent(ValueError):
    def __init__(self, errors: list) -> None:  # type: ignore[type-arg]
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = errors


def edit_question(question: Question, content: QuestionContent, actor: User) -> QuestionVersion:
    """A new version; the old one stays for every attempt that showed it."""
    errors = validate(content)
    if errors:
        raise InvalidContent(errors)
    current = question.current_version
    number = (current.number if current else 0) + 1
    # The form edits text; the images stay those of the version edited.
    images = store_images(content) if content.images else list(current.images if current else [])
    version = _new_version(question, content, actor, number, images)
    question.current_version = version
    question.type, question.category = content.type, content.category
    question.difficulty, question.duplicate_key = content.difficulty, duplicate_key(content)
    question.updated_at = utcnow()
    db.session.flush()
    audit.record(actor, "question.edit", "question", question.id,
                 before={"version": number - 1}, after={"version": number})
    return version


def set_status(questions: Iterable[Question], status: str) -> int:
    count = 0
    for question in questions:
        if question.status != status:
            question.status = status
            count += 1
    db.session.flush()
    return count


@dataclass
class ImportSummary:
    imported: int
    skipped_unsupported: int
    duplicates: int
    errors: int


def import_parsed(bank: QuestionBank, result: ParseResult, actor: User | None, status: str,
                  only_valid: bool = False, skip_duplicates: bool = True) -> ImportSummary:
    """Store the parsed questions; nothing at all when the file has errors, unless the
    instructor explicitly chose to import only the valid ones."""
    if result.errors and not only_valid:
        return ImportSummary(0, len(result.unsupported), len(result.duplicates),
                             len(result.errors))
    keys = existing_keys(bank)
    duplicates = 0
    contents: list[QuestionContent] = []
    content_keys: list[str] = []
    for parsed in result.questions:
        key = parsed.key or duplicate_key(parsed.content)
        if skip_duplicates and key in keys:
            duplicates += 1
            continue
        keys.add(key)
        contents.append(parsed.content)
        content_keys.append(key)
    add_questions(bank, contents, actor, status, content_keys)
    if actor is not None:
        audit.record(actor, "questions.import", "bank", bank.id,
                     after={"file": result.filename, "imported": len(contents)})
    return ImportSummary(len(contents), len(result.unsupported), duplicates, len(result.errors))


BULK_CHUNK = 2000


def add_questions(bank: QuestionBank, contents: Sequence[QuestionContent], actor: User | None,
                  status: str = DRAFT, keys: Sequence[str] | None = None) -> list[int]:
    """Many new questions with their first versions, in a handful of statements rather than
    two INSERTs and a flush per question: on PostgreSQL a COPY and one
    INSERT ... SELECT for both tables; elsewhere multi-row INSERTs and one UPDATE that points
    every new question at its version. Returns the new questions' ids, in order."""
    if not contents:
        return []
    if keys is None:
        keys = [duplicate_key(content) for content in contents]
    actor_id = actor.id if actor else None
    now = utcnow()
    db.session.flush()
    question_rows = [
        {"bank_id": bank.id, "status": status, "type": c.type, "category": c.category,
         "difficulty": c.difficulty, "duplicate_key": key, "created_at": now, "updated_at": now}
        for c, key in zip(contents, keys, strict=True)]

    def version_row(question_id: int, c: QuestionContent) -> dict[str, object]:
        return {"question_id": question_id, "number": 1, "type": c.type, "stem": c.stem,
                "options": list(c.options),
                "answer": c.answer if isinstance(c.answer, bool) else sorted(c.answer),
                "explanation": c.explanation, "category": c.category,
                "difficulty": c.difficulty, "images": store_images(c), "created_by_id": actor_id,
                "created_at": now}

    ids: list[int] = []
    if db.session.get_bind().dialect.name == "postgresql":
        ids = _copy_rows(question_rows, contents, version_row)
    else:
        for start in range(0, len(contents), BULK_CHUNK):
            chunk = question_rows[start:start + BULK_CHUNK]
            question_ids = list(db.session.scalars(
                sa.insert(Question).returning(Question.id, sort_by_parameter_order=True),
                chunk))
            ids.extend(question_ids)
            db.session.execute(sa.insert(QuestionVersion), [
                version_row(qid, c) for qid, c in
                zip(question_ids, contents[start:start + BULK_CHUNK], strict=True)])
        _point_at_first_versions(bank)
    db.session.flush()
    return ids


def _point_at_first_versions(bank: QuestionBank) -> None:
    first_version = (sa.select(QuestionVersion.id)
                     .where(QuestionVersion.question_id == Question.id,
                            QuestionVersion.number == 1)
                     .scalar_subquery())
    db.session.execute(
        sa.update(Question)
        .where(Question.bank_id == bank.id, Question.current_version_id.is_(None))
        .values(current_version_id=first_version)
        .execution_options(synchronize_session=False))


def _copy_rows(question_rows: list[dict[str, object]], contents: Sequence[QuestionContent],
               version_row: Callable[[int, QuestionContent], dict[str, object]]) -> list[int]:
    """PostgreSQL: ids from the sequences; COPY into a temporary table; then one statement
    inserts questions (already pointing at their versions) and versions: a foreign key that
    is not deferrable is checked at the end of the statement, so the circle between the two
    tables closes without a second pass over 10,000 rows."""
    import json

    connection = db.session.connection()
    count = len(question_rows)

    def next_ids(table: str) -> list[int]:
        return sorted(connection.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :n)"), {"table": table, "n": count}).scalars())

    question_ids = next_ids("questions")
    version_ids = next_ids("question_versions")
    lines = []
    for qid, vid, row, content in zip(question_ids, version_ids, question_rows, contents,
                                      strict=True):
        version = version_row(qid, content)
        lines.append("\t".join([
            str(qid), str(vid), *(_copy_field(row[c]) for c in _QUESTION_COLUMNS),
            _copy_field(version["stem"]), _copy_field(version["explanation"]),
            *(_copy_field(json.dumps(version[c], ensure_ascii=False))
              for c in ("options", "answer", "images")),
            _copy_field(version["created_by_id"])]))
    connection.execute(sa.text(
        "CREATE TEMPORARY TABLE question_import_rows (qid integer, vid integer, "
        "bank_id integer, status varchar(10), type varchar(20), category varchar(255), "
        "difficulty varchar(10), duplicate_key varchar(64), created_at timestamptz, "
        "updated_at timestamptz, stem text, explanation text, options json, answer json, "
        "images json, "
        "created_by_id integer) ON COMMIT DROP"))
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(  # type: ignore[union-attr]
            "COPY question_import_rows FROM STDIN") as copy:
        copy.write("\n".join(lines) + "\n")
    connection.execute(sa.text(
        "WITH new_questions AS ("
        " INSERT INTO questions (id, bank_id, status, type, category, difficulty, duplicate_key,"
        "  current_version_id, created_at, updated_at)"
        " SELECT qid, bank_id, status, type, category, difficulty, duplicate_key, vid,"
        "  created_at, updated_at FROM question_import_rows)"
        " INSERT INTO question_versions (id, question_id, number, type, stem, options, answer,"
        "  explanation, category, difficulty, images, created_by_id, created_at)"
        " SELECT vid, qid, 1, type, stem, options, answer, explanation, category, difficulty,"
        "  images, created_by_id, created_at FROM question_import_rows"))
    connection.execute(sa.text("DROP TABLE question_import_rows"))
    return question_ids


_QUESTION_COLUMNS = ("bank_id", "status", "type", "category", "difficulty", "duplicate_key",
                     "created_at", "updated_at")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: object) -> str:
    """One field of PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def bank_contents(bank: QuestionBank, status: str | None = None) -> list[QuestionContent]:
    query = (sa.select(QuestionVersion)
             .join(Question, Question.current_version_id == QuestionVersion.id)
             .where(Question.bank_id == bank.id).order_by(Question.id))
    if status:
        query = query.where(Question.status == status)
    return [v.content() for v in db.session.scalars(query)]
