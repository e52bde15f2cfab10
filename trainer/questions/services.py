"""Question-bank use cases: import a parsed file, edit with versions, export. Flush, never
commit: the view or command commits, so an import is one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from trainer.accounts.models import User
from trainer.audit import services as audit
from trainer.clock import utcnow
from trainer.db import db
from trainer.questions.duplicates import duplicate_key
from trainer.questions.import_result import ParseResult
from trainer.questions.models import Question, QuestionBank, QuestionVersion, bank_certificate_types
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


def _new_version(question: Question, content: QuestionContent, actor: User | None,
                 number: int) -> QuestionVersion:
    version = QuestionVersion(
        question_id=question.id, number=number, type=content.type, stem=content.stem,
        options=list(content.options),
        answer=content.answer if isinstance(content.answer, bool) else sorted(content.answer),
        explanation=content.explanation, category=content.category,
        difficulty=content.difficulty, images=[], created_by_id=actor.id if actor else None)
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
    version = _new_version(question, content, actor, number)
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
    imported = duplicates = 0
    for parsed in result.questions:
        key = duplicate_key(parsed.content)
        if skip_duplicates and key in keys:
            duplicates += 1
            continue
        keys.add(key)
        add_question(bank, parsed.content, actor, status)
        imported += 1
    if actor is not None:
        audit.record(actor, "questions.import", "bank", bank.id,
                     after={"file": result.filename, "imported": imported})
    return ImportSummary(imported, len(result.unsupported), duplicates, len(result.errors))


def bank_contents(bank: QuestionBank, status: str | None = None) -> list[QuestionContent]:
    query = (sa.select(QuestionVersion)
             .join(Question, Question.current_version_id == QuestionVersion.id)
             .where(Question.bank_id == bank.id).order_by(Question.id))
    if status:
        query = query.where(Question.status == status)
    return [v.content() for v in db.session.scalars(query)]
