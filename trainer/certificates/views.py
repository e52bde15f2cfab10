"""Certificate pages: the admin expiry dashboard, certificate detail, catalogue edit, the
worker's "my certificates", public verification (with QR code) and the printable PDF."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from trainer.accounts.models import Employer
from trainer.accounts.rules import Role
from trainer.audit import services as audit
from trainer.auth import ADMINS, public, require
from trainer.certificates import dashboard, export, issuing, queries, services, timelines
from trainer.certificates.forms import CertificateTypeForm, VerifyForm
from trainer.certificates.models import Certificate, CertificateType, Suspension
from trainer.clock import today, utcnow
from trainer.db import db
from trainer.i18n import select_locale

bp = Blueprint("certificates", __name__, template_folder="templates")
# A formal exam pass issues or renews a certificate (trainer.signals.exam_passed).
bp.record_once(lambda state: issuing.init_app(state.app))

PAGE_SIZE = 50

STATUS_LABELS = {
    "valid": _l("Valid"),
    "due_soon": _l("Due soon"),
    "deemed_valid": _l("Deemed valid"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}
STATUS_BADGES = {"valid": "ok", "due_soon": "warn", "deemed_valid": "warn", "expired": "bad",
                 "revoked": "bad"}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"STATUS_LABELS": STATUS_LABELS, "STATUS_BADGES": STATUS_BADGES}


def _locale() -> str:
    return select_locale()


def _types() -> list[CertificateType]:
    return list(db.session.scalars(sa.select(CertificateType).order_by(CertificateType.code)))


def _scope_employer() -> int | None:
    if current_user.role == Role.EMPLOYER_ADMIN:
        return int(current_user.employer_id)
    return None


def read_filters() -> tuple[queries.CertificateFilter, list[str]]:
    """The dashboard filters from the query string; bad values are dropped with a message."""
    args = request.args
    problems: list[str] = []
    as_of = today()
    if args.get("as_of"):
        try:
            as_of = dt.date.fromisoformat(args["as_of"])
        except ValueError:
            problems.append(_("The date is not valid; showing today."))
    filters = queries.CertificateFilter(as_of=as_of, scope_employer_id=_scope_employer())
    region = args.get("region", "").strip()
    if region:
        if re.fullmatch(r"[0-9]{2}(?:[0-9]{2}){0,2}", region):
            filters.region = region
        else:
            problems.append(_("A region is 2, 4 or 6 digits (e.g. 34 or 340104)."))
    employer = args.get("employer", "").strip()
    if employer and _scope_employer() is None:
        if employer.isdigit():
            filters.employer_id = int(employer)
        else:
            problems.append(_("Unknown employer."))
    type_code = args.get("type", "").strip()
    if type_code:
        if re.fullmatch(r"[0-9A-Za-z.]{1,10}", type_code):
            filters.type_code = type_code
        else:
            problems.append(_("Unknown certificate type."))
    status = args.get("status", "")
    if status:
        if status in queries.STATUSES:
            filters.status = status
        else:
            problems.append(_("Unknown status."))
    due = args.get("due_within", "").strip()
    if due:
        if due.isdigit() and int(due) <= 3650:
            filters.due_within_days = int(due)
        else:
            problems.append(_("'Due within' is a number of days up to 3650."))
    search = args.get("q", "").strip()[:100]
    if search:
        filters.search = search
    return filters, problems


def _filter_args(filters: queries.CertificateFilter) -> dict[str, str]:
    out = {"as_of": filters.as_of.isoformat()}
    if filters.region:
        out["region"] = filters.region
    if filters.employer_id is not None:
        out["employer"] = str(filters.employer_id)
    if filters.type_code:
        out["type"] = filters.type_code
    if filters.status:
        out["status"] = filters.status
    if filters.due_within_days is not None:
        out["due_within"] = str(filters.due_within_days)
    if filters.search:
        out["q"] = filters.search
    return out


@bp.route("/admin/certificates")
@require(*ADMINS)
def dashboard_page() -> str:
    filters, problems = read_filters()
    for problem in problems:
        flash(problem, "error")
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    counts = queries.counts_by_status(db.session, filters)
    rows, has_next = queries.page(db.session, filters, page_number, PAGE_SIZE)
    chart = dashboard.due_per_month(db.session, filters)
    employers = []
    if _scope_employer() is None:
        employers = list(db.session.execute(
            sa.select(Employer.id, Employer.name).order_by(Employer.name)))
    return render_template(
        "certificates/dashboard.html", filters=filters, counts=counts, rows=rows,
        has_next=has_next, page=page_number, chart=chart, types=_types(), employers=employers,
        args=_filter_args(filters), locale=_locale(), statuses=queries.STATUSES)


@bp.route("/admin/certificates/key-posts")
@require(*ADMINS)
def key_posts() -> str:
    filters, problems = read_filters()
    for problem in problems:
        flash(problem, "error")
    gaps = dashboard.key_posts_without_valid_holder(db.session, filters, _locale())
    return render_template("certificates/key_posts.html", gaps=gaps, filters=filters,
                           args=_filter_args(filters))


@bp.route("/admin/certificates/export")
@require(*ADMINS)
def export_list() -> BaseResponse:
    filters, problems = read_filters()
    if problems:
        for problem in problems:
            flash(problem, "error")
        target: dict[str, Any] = dict(_filter_args(filters))
        return redirect(url_for("certificates.dashboard_page", **target))
    file_format = request.args.get("format", "csv")
    stamp = filters.as_of.isoformat()
    audit.record(current_user, "certificates.export", "certificates", stamp,
                 after={"format": file_format, **_filter_args(filters)},
                 employer_id=_scope_employer())
    db.session.commit()
    if file_format == "xlsx":
        # Closed by chunks() once the response has been sent.
        spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
        export.write_xlsx(queries.export_rows(db.session, filters), spool)
        spool.seek(0)

        def chunks() -> Any:
            try:
                while chunk := spool.read(256 * 1024):
                    yield chunk
            finally:
                spool.close()

        return Response(chunks(), mimetype=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            headers={"Content-Disposition":
                     f'attachment; filename="certificates-{stamp}.xlsx"'})
    # The CSV is produced while it is sent, on its own connection: the request's session is
    # closed when the view returns, and memory stays flat whatever the number of rows.
    engine = db.engine

    def stream() -> Any:
        with Session(engine) as own:
            for chunk in export.csv_chunks(queries.export_rows(own, filters)):
                yield chunk.encode("utf-8")

    return Response(
        stream(),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="certificates-{stamp}.csv"'})


def _visible_certificate(certificate_id: int) -> Certificate:
    cert = db.session.get(Certificate, certificate_id)
    if cert is None:
        abort(404)
    scope = _scope_employer()
    if scope is not None and cert.employer_id != scope:
        abort(404)
    return cert


def history_of(cert: Certificate) -> list[Certificate]:
    """The renewal chain this certificate belongs to, newest first."""
    newest = cert
    seen = {cert.id}
    while True:
        newer = db.session.scalar(sa.select(Certificate).where(
            Certificate.replaces_id == newest.id).order_by(Certificate.id.desc()).limit(1))
        if newer is None or newer.id in seen:
            break
        seen.add(newer.id)
        newest = newer
    chain = [newest]
    current = newest
    while current.replaces_id is not None and len(chain) < 100:
        previous = db.session.get(Certificate, current.replaces_id)
        if previous is None or previous.id in {c.id for c in chain}:
            break
        chain.append(previous)
        current = previous
    return chain


@bp.route("/admin/certificates/<int:certificate_id>")
@require(*ADMINS)
def detail(certificate_id: int) -> str:
    cert = _visible_certificate(certificate_id)
    day = today()
    return render_template(
        "certificates/detail.html", cert=cert, status=services.status_of(cert, day).value,
        history=history_of(cert), today=day, locale=_locale())


@bp.route("/admin/certificate-types")
@require(Role.ADMIN)
def catalogue() -> str:
    return render_template("certificates/catalogue.html", types=_types(), locale=_locale())


@bp.route("/admin/certificate-types/<code>", methods=["GET", "POST"])
@require(Role.ADMIN)
def edit_type(code: str) -> str | BaseResponse | tuple[str, int]:
    row = db.session.get(CertificateType, code)
    if row is None:
        abort(404)
    form = CertificateTypeForm(obj=row)
    if form.validate_on_submit():
        before = row.as_dict()
        form.populate_obj(row)
        row.course_key = row.course_key or None
        row.exam_key = row.exam_key or None
        row.updated_at = utcnow()
        after = row.as_dict()
        old, new = audit.changes(before, after)
        if new:
            audit.record(current_user, "certificate_type.update", "certificate_type", code,
                         before=old, after=new)
            if "renewal_window_days" in new:
                db.session.flush()
                timelines.refresh_certificates(db.session, Certificate.type_code == code)
        db.session.commit()
        flash(_("Certificate type %(code)s saved.", code=code), "success")
        return redirect(url_for("certificates.catalogue"))
    status = 400 if request.method == "POST" else 200
    return render_template("certificates/type_edit.html", form=form, row=row), status


@bp.route("/certificates")
@require()
def mine() -> str:
    day = today()
    certs = list(db.session.scalars(
        sa.select(Certificate).where(Certificate.holder_user_id == current_user.id,
                                     sa.not_(Certificate.superseded))
        .order_by(Certificate.due_on)))
    items = [(cert, services.status_of(cert, day).value) for cert in certs]
    return render_template("certificates/mine.html", items=items, today=day, locale=_locale())


def _own_or_managed(certificate_id: int) -> Certificate:
    cert = db.session.get(Certificate, certificate_id)
    if cert is None:
        abort(404)
    if current_user.role == Role.ADMIN:
        return cert
    if current_user.role == Role.EMPLOYER_ADMIN and cert.employer_id == current_user.employer_id:
        return cert
    if cert.holder_user_id == current_user.id:
        return cert
    abort(404)


@bp.route("/verify", methods=["GET"])
@public
def verify_lookup() -> str | BaseResponse:
    form = VerifyForm(request.args)
    if request.args.get("number") is not None and form.validate():
        return redirect(url_for("certificates.verify", number=(form.number.data or "").strip()))
    return render_template("certificates/verify_lookup.html", form=form)


@bp.route("/verify/<number>")
@public
def verify(number: str) -> tuple[str, int] | str:
    cert = None
    if len(number) <= 40:
        cert = db.session.scalar(sa.select(Certificate).where(Certificate.number == number))
    if cert is None:
        return render_template("certificates/verify.html", cert=None, number=number[:40]), 404
    day = today()
    newer = db.session.scalar(sa.select(Certificate.number).where(
        Certificate.replaces_id == cert.id).limit(1))
    page = render_template(
        "certificates/verify.html", cert=cert, number=cert.number,
        status=services.status_of(cert, day).value, today=day, newer=newer, locale=_locale())
    return page


@bp.after_app_request
def _cache_verification(response: BaseResponse) -> BaseResponse:
    # The verification page is public and cheap; let proxies keep it briefly so a QR code
    # scanned by many phones does not reach the database every time.
    if request.endpoint == "certificates.verify" and response.status_code in {200, 404}:
        response.headers["Cache-Control"] = "public, max-age=300"
    return response


def verify_url(number: str) -> str:
    return url_for("certificates.verify", number=number, _external=True)


@bp.route("/verify/<number>/qr.svg")
@public
def verify_qr(number: str) -> Response:
    from trainer.certificates.printing import qr_svg

    if len(number) > 40:
        abort(404)
    exists = db.session.scalar(sa.select(Certificate.id).where(Certificate.number == number))
    if exists is None:
        abort(404)
    return Response(qr_svg(verify_url(number)), mimetype="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


@bp.route("/certificates/<int:certificate_id>/pdf")
@require()
def pdf(certificate_id: int) -> Response:
    from trainer.certificates.printing import certificate_pdf

    cert = _own_or_managed(certificate_id)
    data = certificate_pdf(cert, verify_url(cert.number), services.status_of(cert, today()).value,
                           _locale())
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificate-{cert.id}.pdf"'})


def suspension_names() -> dict[int, str]:
    return {sid: name for sid, name in db.session.execute(sa.select(Suspension.id,
                                                                  Suspension.name))}
