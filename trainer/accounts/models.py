"""Users, employers, regions, API tokens and login-failure records."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainer.accounts.rules import ProductionState, Role, mask_national_id, mask_phone
from trainer.clock import utcnow
from trainer.db import Model


class Region(Model):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))


class Employer(Model):
    __tablename__ = "employers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    credit_code: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    production_state: Mapped[str] = mapped_column(
        sa.String(20), default=ProductionState.NORMAL.value
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    region: Mapped[Region] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "production_state in ('normal', 'suspended', 'resuming')", name="production_state"
        ),
    )


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique whatever the case (index below): log-in finds usernames case-insensitively.
    username: Mapped[str | None] = mapped_column(sa.String(40))
    phone: Mapped[str | None] = mapped_column(sa.String(11), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    role: Mapped[str] = mapped_column(sa.String(20), index=True)
    employer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("employers.id"), index=True)
    national_id: Mapped[str | None] = mapped_column(sa.String(18), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    must_change_password: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column()

    employer: Mapped[Employer | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("username is not null or phone is not null", name="has_login"),
        sa.CheckConstraint(
            "role in ('worker', 'instructor', 'employer_admin', 'admin')", name="role"
        ),
        sa.CheckConstraint(
            "role <> 'employer_admin' or employer_id is not null", name="employer_admin_employer"
        ),
        sa.Index("uq_users_username_lower", sa.func.lower(username), unique=True),
    )

    @property
    def is_active(self) -> bool:  # flask-login refuses inactive users
        return self.active

    def get_id(self) -> str:
        # The password timestamp is part of the session id, so changing the password logs out
        # every other session of this user.
        stamp = int(self.password_changed_at.timestamp()) if self.password_changed_at else 0
        return f"{self.id}:{stamp}"

    @property
    def login(self) -> str:
        return self.username or self.phone or ""

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    def has_role(self, *roles: Role | str) -> bool:
        return self.role in {str(r) for r in roles}

    @property
    def masked_national_id(self) -> str:
        return mask_national_id(self.national_id)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class LoginFailure(Model):
    """One failed log-in; counted in a sliding window per login name and per client address.

    Kept in the database (or Redis when configured) so the limit holds across every worker
    process and app instance.
    """

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(200), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
