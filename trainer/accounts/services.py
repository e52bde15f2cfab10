"""Account use cases. They flush but never commit: the view or command commits."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from trainer.accounts import ratelimit
from trainer.accounts.models import ApiToken, Employer, Region, User
from trainer.accounts.rules import (
    MAX_PASSWORD_LENGTH,
    USERNAME_PATTERN,
    InvalidNationalId,
    ProductionState,
    Role,
    is_region_code,
    nfkc,
    normalise_national_id,
    normalise_phone,
    parse_role,
    password_problem,
)
from trainer.audit import services as audit
from trainer.clock import utcnow
from trainer.db import db


class AccountError(ValueError):
    """A user-facing problem with named field: the message is translated lazily."""

    def __init__(self, field: str, message: Any) -> None:
        super().__init__(str(message))
        self.field = field
        self.message = message


# -- authentication -------------------------------------------------------------------------

class LoginLocked(Exception):
    pass


def find_by_login(login: str) -> User | None:
    """The one user with this phone number or username (any case); None if none or several.

    Usernames are unique whatever their case (a unique index on lower(username)), so "several"
    cannot happen; refusing it anyway keeps a log-in from ever landing in someone else's account.
    """
    login = login.strip()
    phone = normalise_phone(login)
    if phone:
        query = sa.select(User).where(User.phone == phone)
    else:
        query = sa.select(User).where(sa.func.lower(User.username) == login.lower())
    found = db.session.scalars(query.limit(2)).all()
    return found[0] if len(found) == 1 else None


# A real hash to compare against when the user does not exist, so response time does not
# reveal which logins exist.
_DUMMY_HASH: dict[str, str] = {}


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASH:
        _DUMMY_HASH[method] = hash_password("not-a-real-password")
    return _DUMMY_HASH[method]


def authenticate(login: str, password: str, address: str | None) -> User | None:
    """The user for these credentials, None when wrong; raises LoginLocked when rate limited.

    The attempt is counted before the password is checked (see ratelimit), so parallel
    guesses cannot all slip in under the limit.
    """
    attempt = ratelimit.begin(login, address)
    if attempt is None:
        raise LoginLocked()
    user = find_by_login(login)
    ok = check_password_hash(user.password_hash if user else dummy_hash(), password)
    if not ok or user is None or not user.active:
        return None  # the attempt stays counted: a failure
    ratelimit.succeeded(attempt)
    return user


def set_password(user: User, password: str) -> None:
    problem = password_problem(password)
    if problem == "too_short":
        raise AccountError("password", _l("The password must be at least 8 characters long."))
    if problem:
        raise AccountError("password", _l("The password must contain letters and digits."))
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    # A new password ends every other way in: sessions (the password stamp in the session id)
    # and API tokens, which someone who knew the old password may have issued.
    revoke_user_tokens(user)


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise AccountError("current_password", _l("The current password is wrong."))
    if current == new:
        raise AccountError("new_password", _l("Choose a password different from the current one."))
    try:
        set_password(user, new)
    except AccountError as exc:
        raise AccountError("new_password", exc.message) from None
    user.must_change_password = False
    db.session.flush()


# -- API tokens ----------------------------------------------------------------------------

def issue_token(user: User, name: str = "") -> tuple[ApiToken, str]:
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        name=name[:100],
        expires_at=utcnow() + dt.timedelta(days=current_app.config["API_TOKEN_DAYS"]),
    )
    db.session.add(row)
    db.session.flush()
    return row, token


def revoke_user_tokens(user: User) -> int:
    """Revoke every live API token of this user; returns how many."""
    if user.id is None:
        return 0
    result = db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_token(row: ApiToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    db.session.flush()


# -- users ---------------------------------------------------------------------------------

@dataclass
class UserInput:
    name: str
    role: str
    username: str = ""
    phone: str = ""
    national_id: str = ""
    employer: str = ""
    password: str = ""


@dataclass
class ValidUser:
    name: str
    role: Role
    username: str | None
    phone: str | None
    national_id: str | None
    employer: Employer | None
    password: str | None


def national_id_message(reason: str) -> Any:
    return {
        "length": _l("An ID number has 18 characters."),
        "characters": _l("An ID number is 17 digits followed by a digit or X."),
        "birth_date": _l("The birth date inside this ID number does not exist."),
        "checksum": _l("This ID number's check digit is wrong; please check it for typos."),
    }[reason]


# Longest accepted input per field (the database columns: name 100, username 40, employer
# name 200; a phone number or ID number with spaces and a prefix fits in 30). Checked before
# anything else, so no over-long value reaches a query, a column or an echoed message.
MAX_FIELD_LENGTHS = {"name": 100, "role": 50, "username": 40, "phone": 30, "national_id": 30,
                     "employer": 200, "password": MAX_PASSWORD_LENGTH}


def too_long_message(field_name: str) -> Any:
    limit = MAX_FIELD_LENGTHS[field_name]
    return {
        "name": _l("A name has at most %(max)d characters.", max=limit),
        "role": _l("A role has at most %(max)d characters.", max=limit),
        "username": _l("A username has at most %(max)d characters.", max=limit),
        "phone": _l("A mobile number has at most %(max)d characters.", max=limit),
        "national_id": _l("An ID number has 18 characters."),
        "employer": _l("An employer name has at most %(max)d characters.", max=limit),
        "password": _l("A password has at most %(max)d characters.", max=limit),
    }[field_name]


def validate_user(data: UserInput, actor: User | None) -> tuple[ValidUser | None, list[AccountError]]:
    """Check one user's fields; the actor's scope limits roles and employers."""
    too_long = {f for f, limit in MAX_FIELD_LENGTHS.items() if len(getattr(data, f)) > limit}
    errors = [AccountError(f, too_long_message(f)) for f in MAX_FIELD_LENGTHS if f in too_long]
    name = data.name.strip()
    if not name and "name" not in too_long:
        errors.append(AccountError("name", _l("A name is required.")))
    role: Role | None = None
    if "role" not in too_long:
        try:
            role = parse_role(data.role or "worker")
        except ValueError:
            errors.append(AccountError("role", _l(
                "Unknown role %(role)s: use worker, instructor, employer_admin or admin.",
                role=data.role)))
    username = data.username.strip() or None if "username" not in too_long else None
    if username and not USERNAME_PATTERN.match(username):
        errors.append(AccountError("username", _l(
            "A username is 3–40 letters, digits, dots, dashes or underscores, "
            "starting with a letter.")))
    phone = None
    if data.phone.strip() and "phone" not in too_long:
        phone = normalise_phone(data.phone)
        if phone is None:
            errors.append(AccountError("phone", _l(
                "%(phone)s is not a mainland mobile number (11 digits starting with 1).",
                phone=data.phone)))
    if not data.username.strip() and not data.phone.strip():
        errors.append(AccountError("phone", _l("A mobile number or a username is required.")))
    national_id = None
    if data.national_id.strip() and "national_id" not in too_long:
        try:
            national_id = normalise_national_id(data.national_id)
        except InvalidNationalId as exc:
            errors.append(AccountError("national_id", national_id_message(exc.reason)))
    employer = None
    scoped = actor is not None and actor.role == Role.EMPLOYER_ADMIN
    if scoped and data.employer.strip() and "employer" not in too_long:
        # An employer admin learns nothing about other employers, not even which names exist.
        if actor is None or actor.employer is None or data.employer.strip() != actor.employer.name:
            errors.append(AccountError("employer", _l(
                "You can only add people to your own employer.")))
    elif data.employer.strip() and "employer" not in too_long:
        employer = db.session.scalar(sa.select(Employer).where(Employer.name == data.employer.strip()))
        if employer is None:
            errors.append(AccountError("employer", _l(
                "No employer is called %(name)s.", name=data.employer.strip())))
    if actor is not None and actor.role == Role.EMPLOYER_ADMIN:
        if role is not None and role != Role.WORKER:
            errors.append(AccountError("role", _l("An employer admin can only create workers.")))
        if employer is not None and employer.id != actor.employer_id:
            errors.append(AccountError("employer", _l(
                "You can only add people to your own employer.")))
        employer = actor.employer
    if role == Role.EMPLOYER_ADMIN and employer is None and not any(
        e.field == "employer" for e in errors
    ):
        errors.append(AccountError("employer", _l("An employer admin needs an employer.")))
    password = data.password or None if "password" not in too_long else None
    if password:
        problem = password_problem(password)
        if problem:
            errors.append(AccountError("password", _l(
                "The password must be at least 8 characters and contain letters and digits.")))
    if errors or role is None:
        return None, errors
    return ValidUser(name, role, username, phone, national_id, employer, password), []


def uniqueness_errors(valid: ValidUser, exclude_id: int | None = None,
                      actor: User | None = None) -> list[AccountError]:
    """Logins and ID numbers already taken. An employer admin gets one generic message: which
    value is taken, and so that someone of another employer has it, is none of their business."""
    errors = []

    def taken(column: Any, value: str | None) -> bool:
        if value is None:
            return False
        query = sa.select(User.id).where(column == value)
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        return db.session.scalar(query.limit(1)) is not None

    # Usernames compare case-insensitively, as log-in does (find_by_login).
    if valid.username and taken(sa.func.lower(User.username), valid.username.lower()):
        errors.append(AccountError("username", _l(
            "The username %(value)s is taken.", value=valid.username)))
    if taken(User.phone, valid.phone):
        errors.append(AccountError("phone", _l(
            "The mobile number %(value)s is already registered.", value=valid.phone)))
    if taken(User.national_id, valid.national_id):
        errors.append(AccountError("national_id", _l(
            "A user with this ID number already exists.")))
    if errors and actor is not None and actor.role != Role.ADMIN:
        return [AccountError("phone" if valid.phone else "username", _l(
            "This person cannot be added with these details (mobile number, username or ID "
            "number). If they already have an account, ask a platform admin."))]
    return errors


def generated_password() -> str:
    # Letters and digits only, without look-alikes, so it can be read out over the phone.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(10))
        if password_problem(candidate) is None:
            return candidate


def create_user(valid: ValidUser, actor: User | None) -> tuple[User, str | None]:
    """Create the user; returns the generated initial password when none was given."""
    generated = None
    password = valid.password
    if password is None:
        password = generated = generated_password()
    user = User(
        name=valid.name, role=valid.role.value, username=valid.username, phone=valid.phone,
        national_id=valid.national_id, employer=valid.employer,
        password_hash=hash_password(password), password_changed_at=utcnow(),
        must_change_password=True,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.create", "user", user.id, after=user_snapshot(user),
                 employer_id=user.employer_id)
    return user, generated


def user_snapshot(user: User) -> dict[str, Any]:
    # Never the ID number or the password hash: the audit log itself must not leak them.
    return {
        "name": user.name, "role": user.role, "username": user.username,
        "phone": user.masked_phone, "employer": user.employer.name if user.employer else None,
        "active": user.active, "national_id": user.masked_national_id,
    }


@dataclass
class RowError:
    row: int
    field: str
    message: Any


@dataclass
class ImportOutcome:
    created: list[tuple[User, str | None]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def import_users(rows: list[tuple[int, UserInput]], actor: User | None) -> ImportOutcome:
    """Validate every row, then create all or none. Rows are (row number, input)."""
    outcome = ImportOutcome()
    valids: list[ValidUser] = []
    seen: dict[tuple[str, str], int] = {}
    for number, data in rows:
        valid, errors = validate_user(data, actor)
        outcome.errors += [RowError(number, e.field, e.message) for e in errors]
        if valid is None:
            continue
        outcome.errors += [RowError(number, e.field, e.message)
                           for e in uniqueness_errors(valid, actor=actor)]
        for field_name in ("username", "phone", "national_id"):
            value = getattr(valid, field_name)
            if value is None:
                continue
            if field_name == "username":
                value = value.lower()
            if (field_name, value) in seen:
                outcome.errors.append(RowError(number, field_name, _l(
                    "Same as row %(row)s.", row=seen[(field_name, value)])))
            else:
                seen[(field_name, value)] = number
        valids.append(valid)
    if not rows:
        outcome.errors.append(RowError(0, "file", _l("The file has no user rows.")))
    if outcome.errors:
        return outcome
    for valid in valids:
        outcome.created.append(create_user(valid, actor))
    return outcome


def update_user(user: User, changes: dict[str, Any], actor: User) -> None:
    before = user_snapshot(user)
    for key in ("name", "role", "active"):
        if key in changes:
            setattr(user, key, changes[key])
    if "employer" in changes:
        user.employer = changes["employer"]
    db.session.flush()
    b, a = audit.changes(before, user_snapshot(user))
    if a:
        audit.record(actor, "user.update", "user", user.id, before=b, after=a,
                     employer_id=user.employer_id)


def reveal_national_id(user: User, actor: User) -> str | None:
    audit.record(actor, "user.reveal_national_id", "user", user.id,
                 after={"national_id": "revealed"}, employer_id=user.employer_id)
    return user.national_id


def reset_password(user: User, actor: User) -> str:
    password = generated_password()
    set_password(user, password)
    user.must_change_password = True
    audit.record(actor, "user.reset_password", "user", user.id, employer_id=user.employer_id)
    return password


# -- employers and regions ------------------------------------------------------------------

def ensure_region(code: str, name: str) -> tuple[Region, bool]:
    code = nfkc(code).strip()
    if not is_region_code(code):
        raise AccountError("code", _l("A region code has 6 digits, e.g. 340104."))
    region = db.session.get(Region, code)
    if region is not None:
        return region, False
    region = Region(code=code, name=name.strip() or code)
    db.session.add(region)
    db.session.flush()
    return region, True


def ensure_employer(name: str, region_code: str, actor: User | None,
                    credit_code: str | None = None) -> tuple[Employer, bool]:
    name = name.strip()
    if not name:
        raise AccountError("name", _l("A name is required."))
    existing = db.session.scalar(sa.select(Employer).where(Employer.name == name))
    if existing is not None:
        return existing, False
    if db.session.get(Region, region_code) is None:
        raise AccountError("region_code", _l("Unknown region code %(code)s.", code=region_code))
    employer = Employer(name=name, region_code=region_code, credit_code=credit_code or None,
                        production_state=ProductionState.NORMAL.value)
    db.session.add(employer)
    db.session.flush()
    audit.record(actor, "employer.create", "employer", employer.id,
                 after={"name": name, "region_code": region_code}, employer_id=employer.id)
    return employer, True


def set_production_state(employer: Employer, state: ProductionState, actor: User) -> None:
    before = employer.production_state
    if before == state.value:
        return
    employer.production_state = state.value
    db.session.flush()
    audit.record(actor, "employer.production_state", "employer", employer.id,
                 before={"production_state": before}, after={"production_state": state.value},
                 employer_id=employer.id)


def visible_users(actor: User) -> sa.Select[Any]:
    """The users an actor may see: everyone for an admin, own employer's for an employer admin."""
    query = sa.select(User)
    if actor.role == Role.EMPLOYER_ADMIN:
        query = query.where(User.employer_id == actor.employer_id)
    elif actor.role != Role.ADMIN:
        query = query.where(User.id == actor.id)
    return query


def can_manage(actor: User, user: User) -> bool:
    if actor.role == Role.ADMIN:
        return True
    return (actor.role == Role.EMPLOYER_ADMIN and user.employer_id == actor.employer_id
            and user.role == Role.WORKER)
