"""exam_passed issues or renews a certificate (receiver connected when the app is built)."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from trainer.audit.models import AuditEntry
from trainer.certificates import issuing, services
from trainer.certificates.models import Certificate, CertificateType
from trainer.db import db
from trainer.signals import exam_passed

D = dt.date


@pytest.fixture
def catalogue(app, people):
    with app.app_context():
        services.ensure_catalogue(db.session)
        db.session.commit()


def send(app, user_id, type_code, day):
    exam_passed.send(app, user_id=user_id, certificate_type=type_code, passed_on=day,
                     attempt_id=1, score=90)


def certificates(user_id):
    return list(db.session.scalars(sa.select(Certificate).where(
        Certificate.holder_user_id == user_id).order_by(Certificate.id)))


def test_pass_issues_then_renews(app, people, catalogue, monkeypatch):
    hours = {"initial": Decimal("0"), "review": Decimal("0")}
    monkeypatch.setattr(issuing, "_hours", lambda user, code, purpose, since: hours[purpose])
    with app.app_context():
        row = db.session.get(CertificateType, "1.2")
        row.initial_hours = Decimal("24")
        db.session.commit()
        send(app, people["worker"], "1.2", D(2026, 3, 2))
        assert certificates(people["worker"]) == []  # not enough hours
        hours["initial"] = Decimal("24")
        send(app, people["worker"], "1.2", D(2026, 3, 2))
        db.session.commit()
        [first] = certificates(people["worker"])
        assert first.number == "2026340104000001"
        assert (first.issued_on, first.review_due_on, first.expires_on) == (
            D(2026, 3, 2), D(2029, 3, 2), D(2032, 3, 2))
        assert first.employer_id == people["acme_id"] and first.source == "exam"
        assert first.due_on == D(2029, 3, 2)
        # The same pass again: nothing new.
        send(app, people["worker"], "1.2", D(2026, 3, 2))
        assert len(certificates(people["worker"])) == 1
        # Review time: the renewal links the old certificate.
        hours["review"] = Decimal("8")
        send(app, people["worker"], "1.2", D(2029, 2, 1))
        db.session.commit()
        old, new = certificates(people["worker"])
        assert old.superseded and new.replaces_id == old.id and not new.superseded
        assert new.number == "2029340104000001"
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
        assert {"certificate.issue", "certificate.renew"} <= actions


def test_real_hours_lookup_and_missing_data(app, people, catalogue):
    with app.app_context():
        # Special operation types have no initial hours recorded: issued on the pass alone,
        # through the real courses lookup (which finds no hours).
        send(app, people["other_worker"], "2.1", D(2026, 5, 6))
        db.session.commit()
        [cert] = certificates(people["other_worker"])
        assert cert.region_code == "320102"
        # SM needs 32 initial hours: none credited, nothing issued.
        send(app, people["other_worker"], "SM", D(2026, 5, 6))
        assert len(certificates(people["other_worker"])) == 1
        # Unknown type, no type, unknown worker: ignored without error.
        send(app, people["other_worker"], "99.9", D(2026, 5, 6))
        send(app, people["other_worker"], "", D(2026, 5, 6))
        send(app, 999999, "2.1", D(2026, 5, 6))
        # A worker without a national ID number gets no certificate.
        decision, cert = issuing.issue_for_pass(db.session, people["instructor"], "2.1",
                                                D(2026, 5, 6))
        assert cert is None and "national ID" in decision.reason
