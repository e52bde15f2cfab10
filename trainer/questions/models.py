"""Question banks, questions and their immutable versions.

Editing a question adds a new ``QuestionVersion``; exam attempts point at the version they
showed, so a later edit never changes a past paper or its grade.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.accounts.models import User
from trainer.clock import utcnow
from trainer.db import Model
from trainer.questions.types import QuestionContent

bank_certificate_types = sa.Table(
    "bank_certificate_types",
    Model.metadata,
    sa.Column("bank_id", sa.ForeignKey("question_banks.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("type_code", sa.String(10), primary_key=True),
)

bank_shares = sa.Table(
    "bank_shares",
    Model.metadata,
    sa.Column("bank_id", sa.ForeignKey("question_banks.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)


class QuestionBank(Model):
    __tablename__ = "question_banks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # No owner: shared with every instructor (banks made from the command line, sample banks).
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    owner: Mapped[User | None] = relationship()
    shared_with: Mapped[list[User]] = relationship(secondary=bank_shares)

    @property
    def certificate_types(self) -> list[str]:
        from trainer.db import db

        return list(db.session.scalars(
            sa.select(bank_certificate_types.c.type_code)
            .where(bank_certificate_types.c.bank_id == self.id)
            .order_by(bank_certificate_types.c.type_code)))


class Question(Model):
    """A question's identity and state; its content lives in versions."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(sa.ForeignKey("question_banks.id", ondelete="CASCADE"),
                                         index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default="draft", index=True)
    # Denormalised from the current version so exam drawing and filters stay in SQL.
    type: Mapped[str] = mapped_column(sa.String(20), index=True)
    category: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    difficulty: Mapped[str] = mapped_column(sa.String(10), default="medium")
    duplicate_key: Mapped[str] = mapped_column(sa.String(64), index=True)
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("question_versions.id", use_alter=True, name="fk_questions_current_version"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    bank: Mapped[QuestionBank] = relationship()
    current_version: Mapped[QuestionVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True)

    __table_args__ = (
        sa.CheckConstraint("status in ('draft', 'ready', 'retired')", name="status"),
    )


class QuestionVersion(Model):
    """One immutable version of a question's content."""

    __tablename__ = "question_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("questions.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int] = mapped_column(default=1)
    type: Mapped[str] = mapped_column(sa.String(20))
    stem: Mapped[str] = mapped_column(sa.Text)
    options: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # A sorted list of 0-based option indexes, or true/false.
    answer: Mapped[Any] = mapped_column(sa.JSON)
    explanation: Mapped[str] = mapped_column(sa.Text, default="")
    category: Mapped[str] = mapped_column(sa.String(255), default="")
    difficulty: Mapped[str] = mapped_column(sa.String(10), default="medium")
    # Media-storage keys of the question's images (re-encoded on import).
    images: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    question: Mapped[Question] = relationship(foreign_keys=[question_id])

    __table_args__ = (sa.UniqueConstraint("question_id", "number", name="question_number"),)

    def content(self) -> QuestionContent:
        """The content as the type registry sees it (images are referenced by key)."""
        return version_content(self)


# The columns version_content reads, for Core queries that grade without loading versions.
CONTENT_COLUMNS = ("type", "stem", "options", "answer", "explanation", "category", "difficulty")


def version_content(row: Any) -> QuestionContent:
    """QuestionContent of a QuestionVersion or of a row holding its CONTENT_COLUMNS."""
    return QuestionContent(
        type=row.type, stem=row.stem, options=list(row.options or []),
        answer=row.answer if isinstance(row.answer, bool) else list(row.answer or []),
        explanation=row.explanation, category=row.category, difficulty=row.difficulty)
