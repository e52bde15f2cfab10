"""The pure decision on an exam pass: issue, renew or nothing, and the dates."""

import datetime as dt
from decimal import Decimal

from trainer.certificates.issuing import ISSUE, NONE, RENEW, TypeTerms, decide
from trainer.certificates.rules import Status

D = dt.date
SPECIAL = TypeTerms(6, 3, Decimal("24"), Decimal("8"))
SM = TypeTerms(3, None, Decimal("32"), Decimal("12"))


def test_first_certificate_needs_initial_hours():
    assert decide(SPECIAL, D(2026, 3, 2), None, Decimal("23.5")).action == NONE
    decision = decide(SPECIAL, D(2026, 3, 2), None, Decimal("24"))
    assert decision.action == ISSUE and decision.purpose == "initial"
    assert (decision.issued_on, decision.review_due_on, decision.expires_on) == (
        D(2026, 3, 2), D(2029, 3, 2), D(2032, 3, 2))


def test_renewal_of_a_current_certificate_needs_review_hours():
    for status in (Status.VALID, Status.DUE_SOON, Status.DEEMED_VALID):
        assert decide(SPECIAL, D(2026, 3, 2), status, Decimal("7")).action == NONE
        decision = decide(SPECIAL, D(2026, 3, 2), status, Decimal("8"))
        assert decision.action == RENEW and decision.purpose == "review"


def test_a_lapsed_certificate_means_starting_over():
    for status in (Status.EXPIRED, Status.REVOKED):
        decision = decide(SPECIAL, D(2026, 3, 2), status, Decimal("8"))
        assert decision.action == NONE and decision.purpose == "initial"
        assert decide(SPECIAL, D(2026, 3, 2), status, Decimal("24")).action == ISSUE


def test_no_review_interval_and_no_hours_recorded():
    decision = decide(SM, D(2024, 2, 29), None, Decimal("32"))
    assert decision.review_due_on is None and decision.expires_on == D(2027, 2, 28)
    free = TypeTerms(6, 3, None, None)
    assert decide(free, D(2026, 1, 1), None, Decimal(0)).action == ISSUE


def test_unknown_or_inactive_type():
    assert decide(None, D(2026, 1, 1), None, Decimal(100)).action == NONE
    inactive = TypeTerms(6, 3, None, None, active=False)
    assert decide(inactive, D(2026, 1, 1), None, Decimal(100)).action == NONE
