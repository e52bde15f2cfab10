"""Question-bank pages for instructors and admins: banks, questions, import, export, statistics.

A bank is seen only by its owner, the instructors it is shared with and admins (owner-less
banks, made from the command line, by every instructor); anyone else gets 404. Workers and
employer admins are refused every page here.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from trainer.accounts.models import User
from trainer.accounts.rules import Role
from trainer.auth import STAFF, require
from trainer.db import db
from trainer.forms import choices
from trainer.params import page_arg
from trainer.questions import pending, services
from trainer.questions.exporters import MEDIA_TYPES, export_questions, make_template
from trainer.questions.exporters import template_filename as make_template_filename
from trainer.questions.forms import (
    BankForm,
    BulkStatusForm,
    ConfirmImportForm,
    ImportForm,
    QuestionForm,
    StatusForm,
    split_codes,
)
from trainer.questions.import_result import ParseResult, field_label
from trainer.questions.importers import ImportLimits, parse
from trainer.questions.models import Question, QuestionBank, QuestionVersion
from trainer.questions.types import OPTION_LETTERS, QuestionContent, get_type, validate

bp = Blueprint("questions", __name__, url_prefix="/questions", template_folder="templates")

PAGE_SIZE = 50
PREVIEW_PAGE_SIZE = 100
EXPORT_FORMATS = ("json", "xlsx", "gift", "moodle-xml")
TEMPLATE_FORMATS = ("xlsx", "csv")
TEMPLATE_LANGUAGES = ("zh", "en")


def visible_bank(bank_id: int) -> QuestionBank:
    """The bank if the current user may see it; 404 otherwise, so ids of others do not leak."""
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None or not services.can_see_bank(current_user, bank):
        abort(404)
    return bank


def visible_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None or not services.can_see_bank(current_user, question.bank):
        abort(404)
    return question


def instructor_choices(bank: QuestionBank | None) -> list[Any]:
    owner_id = bank.owner_id if bank else current_user.id
    rows = db.session.scalars(sa.select(User).where(User.role == Role.INSTRUCTOR,
                                                    User.active.is_(True),
                                                    User.id != owner_id)
                              .order_by(User.name)).all()
    return choices((str(u.id), f"{u.name} ({u.username or u.masked_phone})") for u in rows)


def import_limits() -> ImportLimits:
    return ImportLimits(max_upload_bytes=int(current_app.config["IMPORT_MAX_BYTES"]))


# --- banks ---------------------------------------------------------------------------------


@bp.route("/")
@require(*STAFF)
def banks() -> str:
    rows = db.session.scalars(services.visible_banks_query(current_user)
                              .order_by(QuestionBank.name)).all()
    counts = services.question_counts([b.id for b in rows])
    return render_template("questions/banks.html", banks=rows, counts=counts)


def save_bank_form(bank: QuestionBank | None, form: BankForm) -> QuestionBank | None:
    """Create or update a bank from the submitted form and commit; None (with the error on its
    field, nothing changed) when the service refuses it."""
    shared = db.session.scalars(sa.select(User).where(
        User.id.in_(form.shared_with.data or []))).all()
    try:
        saved = services.save_bank(bank, name=form.name.data or "",
                                   description=form.description.data or "",
                                   certificate_types=split_codes(form.certificate_types.data or ""),
                                   shared_with=shared, actor=current_user)
    except services.BankError as exc:
        db.session.rollback()
        getattr(form, exc.field).errors.append(exc.message)
        return None
    db.session.commit()
    return saved


@bp.route("/banks/new", methods=["GET", "POST"])
@require(*STAFF)
def new_bank() -> str | Response | tuple[str, int]:
    form = BankForm()
    form.shared_with.choices = instructor_choices(None)
    if form.validate_on_submit() and (bank := save_bank_form(None, form)) is not None:
        flash(_("Bank created. Import questions into it, or add them one by one."), "success")
        return redirect(url_for("questions.bank", bank_id=bank.id))
    status = 400 if request.method == "POST" else 200
    return render_template("questions/bank_form.html", form=form, bank=None), status


@bp.route("/banks/<int:bank_id>/settings", methods=["GET", "POST"])
@require(*STAFF)
def edit_bank(bank_id: int) -> str | Response | tuple[str, int]:
    bank = visible_bank(bank_id)
    if not services.can_manage_bank(current_user, bank):
        abort(403)  # shared instructors edit questions, not who the bank is shared with
    form = BankForm(obj=bank if request.method == "GET" else None)
    form.shared_with.choices = instructor_choices(bank)
    if request.method == "GET":
        form.certificate_types.data = ", ".join(bank.certificate_types)
        form.shared_with.data = [u.id for u in bank.shared_with]
    if form.validate_on_submit() and save_bank_form(bank, form) is not None:
        flash(_("Saved."), "success")
        return redirect(url_for("questions.bank", bank_id=bank.id))
    status = 400 if request.method == "POST" else 200
    return render_template("questions/bank_form.html", form=form, bank=bank), status


@bp.route("/banks/<int:bank_id>")
@require(*STAFF)
def bank(bank_id: int) -> str:
    bank = visible_bank(bank_id)
    filters = _filters(request.args)
    query = _filtered(bank, filters)
    page = page_arg()  # bad → 400, huge → clamped
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(query.order_by(Question.id).limit(PAGE_SIZE)
                              .offset((page - 1) * PAGE_SIZE)).all()
    categories = db.session.scalars(sa.select(Question.category).distinct()
                                    .where(Question.bank_id == bank.id, Question.category != "")
                                    .order_by(Question.category)).all()
    counts = services.question_counts([bank.id])[bank.id]
    return render_template("questions/bank.html", bank=bank, rows=rows, filters=filters,
                           page=page, total=total, page_size=PAGE_SIZE, categories=categories,
                           counts=counts, bulk_form=BulkStatusForm(),
                           can_manage=services.can_manage_bank(current_user, bank),
                           export_formats=EXPORT_FORMATS)


FILTERS = ("q", "type", "category", "difficulty", "status")


def _filters(values: Any) -> dict[str, str]:
    return {key: str(values.get(key, "")).strip()[:200] for key in FILTERS}


def _filtered(bank: QuestionBank, filters: dict[str, str]) -> sa.Select[Question, QuestionVersion]:
    """The bank's questions with their current versions, narrowed by the list's filters."""
    query = (sa.select(Question, QuestionVersion)
             .join(QuestionVersion, Question.current_version_id == QuestionVersion.id)
             .where(Question.bank_id == bank.id))
    if filters["q"]:
        query = query.where(QuestionVersion.stem.icontains(filters["q"], autoescape=True))
    if filters["type"] in {"single", "multiple", "true_false"}:
        query = query.where(Question.type == filters["type"])
    if filters["category"]:
        query = query.where(Question.category == filters["category"])
    if filters["difficulty"] in {"easy", "medium", "hard"}:
        query = query.where(Question.difficulty == filters["difficulty"])
    if filters["status"] in {"draft", "ready"}:
        query = query.where(Question.status == filters["status"])
    return query


@bp.route("/banks/<int:bank_id>/status", methods=["POST"])
@require(*STAFF)
def bulk_status(bank_id: int) -> Response:
    bank = visible_bank(bank_id)
    form = BulkStatusForm()
    if not form.validate_on_submit():
        flash(_("Choose questions and whether to mark them ready or draft."), "error")
        return redirect(url_for("questions.bank", bank_id=bank.id))
    if request.form.get("scope") == "matching":
        # Every question the list's filters match, on every page.
        chosen = {key: request.form.get(f"filter_{key}", "") for key in FILTERS}
        matching = _filtered(bank, _filters(chosen)).with_only_columns(Question.id)
        questions = db.session.scalars(sa.select(Question).where(
            Question.id.in_(matching.scalar_subquery()))).all()
    else:
        ids = [i for i in (form.question_ids.data or []) if isinstance(i, int)]
        if not ids:
            flash(_("No question was selected."), "error")
            return redirect(_back_to_bank(bank))
        questions = db.session.scalars(sa.select(Question).where(
            Question.bank_id == bank.id, Question.id.in_(ids[:5000]))).all()
    changed = services.set_status(questions, form.status.data or "draft")
    from trainer.audit import services as audit

    audit.record(current_user, "questions.status", "bank", bank.id,
                 after={"status": form.status.data, "questions": len(questions),
                        "changed": changed})
    db.session.commit()
    if form.status.data == "ready":
        flash(_("%(n)s question(s) marked ready.", n=changed), "success")
    else:
        flash(_("%(n)s question(s) marked draft.", n=changed), "success")
    return redirect(_back_to_bank(bank))


def _back_to_bank(bank: QuestionBank) -> str:
    target = request.referrer or ""
    if target.startswith(request.host_url) and f"/questions/banks/{bank.id}" in target:
        return target
    return url_for("questions.bank", bank_id=bank.id)


@bp.route("/banks/<int:bank_id>/export/<fmt>")
@require(*STAFF)
def export(bank_id: int, fmt: str) -> Response:
    bank = visible_bank(bank_id)
    if fmt not in EXPORT_FORMATS:
        abort(404)
    status = request.args.get("status") if request.args.get("status") in {"ready",
                                                                         "draft"} else None
    try:
        data = export_questions(services.bank_contents(bank, status), fmt)
    except ValueError:
        flash(_("The bank could not be exported in this format."), "error")
        return redirect(url_for("questions.bank", bank_id=bank.id))
    mimetype, extension = MEDIA_TYPES[fmt]
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=f"{bank.name}.{extension}")


@bp.route("/templates/<language>/<fmt>")
@require(*STAFF)
def template_file(language: str, fmt: str) -> Response:
    if language not in TEMPLATE_LANGUAGES or fmt not in TEMPLATE_FORMATS:
        abort(404)
    mimetype, _extension = MEDIA_TYPES[fmt]
    return send_file(io.BytesIO(make_template(fmt, language)), mimetype=mimetype,
                     as_attachment=True,
                     download_name=make_template_filename(fmt, language))


# --- import --------------------------------------------------------------------------------


@bp.route("/banks/<int:bank_id>/import", methods=["GET", "POST"])
@require(*STAFF)
def import_upload(bank_id: int) -> str | Response | tuple[str, int]:
    bank = visible_bank(bank_id)
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        limit = int(current_app.config["IMPORT_MAX_BYTES"])
        try:
            data = upload.read(limit + 1)
        finally:
            upload.close()
        if len(data) > limit:
            form.file.errors.append(_("The file is larger than %(limit)s MB; split it into "
                                      "smaller files.", limit=f"{limit / 1024 / 1024:g}"))
            return render_template("questions/import.html", bank=bank, form=form), 413
        if not data:
            form.file.errors.append(_("The file is empty."))
            return render_template("questions/import.html", bank=bank, form=form), 400
        filename = _safe_filename(upload.filename or "")
        token = pending.save(data, user_id=current_user.id, bank_id=bank.id,
                             filename=filename, file_format=form.format.data or None)
        return redirect(url_for("questions.import_preview", bank_id=bank.id, token=token))
    status = 400 if request.method == "POST" else 200
    return render_template("questions/import.html", bank=bank, form=form,
                           max_mb=f"{current_app.config['IMPORT_MAX_BYTES'] / 1024 / 1024:g}"
                           ), status


def _safe_filename(name: str) -> str:
    """Only the last path part, without control characters; used for messages, never paths."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:120] or "upload"


def _parse_pending(bank: QuestionBank, upload: pending.PendingUpload) -> ParseResult:
    return parse(upload.data, upload.filename, upload.format, limits=import_limits(),
                 existing_keys=services.existing_keys(bank))


@bp.route("/banks/<int:bank_id>/import/<token>", methods=["GET", "POST"])
@require(*STAFF)
def import_preview(bank_id: int, token: str) -> str | Response | tuple[str, int]:
    bank = visible_bank(bank_id)
    upload = pending.load(token, user_id=current_user.id, bank_id=bank.id)
    if upload is None:
        flash(_("That upload has expired or is not yours; upload the file again."), "error")
        return redirect(url_for("questions.import_upload", bank_id=bank.id))
    result = _parse_pending(bank, upload)
    form = ConfirmImportForm()
    status = 200
    if request.method == "POST":
        if request.form.get("action") == "cancel" and form.validate_on_submit():
            pending.discard(upload.token)
            flash(_("Import cancelled; nothing was imported."), "success")
            return redirect(url_for("questions.bank", bank_id=bank.id))
        if not form.validate_on_submit():
            abort(400)
        if result.errors and not form.only_valid.data:
            flash(_("The file has errors, so nothing was imported. Fix them and upload the "
                    "file again, or choose to import only the valid questions."), "error")
            status = 422
        else:
            summary = services.import_parsed(
                bank, result, current_user,
                services.READY if form.ready.data else services.DRAFT,
                only_valid=bool(form.only_valid.data))
            db.session.commit()
            pending.discard(upload.token)
            flash(_("Imported %(imported)s question(s); skipped %(duplicates)s duplicate(s), "
                    "%(unsupported)s unsupported and %(errors)s with errors.",
                    imported=summary.imported, duplicates=summary.duplicates,
                    unsupported=summary.skipped_unsupported, errors=summary.errors), "success")
            return redirect(url_for("questions.bank", bank_id=bank.id))
    elif result.errors:
        status = 200
    page = page_arg()  # bad → 400, huge → clamped
    shown = result.questions[(page - 1) * PREVIEW_PAGE_SIZE: page * PREVIEW_PAGE_SIZE]
    duplicate_at = {(d.location.kind, d.location.number): d for d in result.duplicates}
    unsupported_kinds = Counter(u.kind for u in result.unsupported)
    return render_template(
        "questions/import_preview.html", bank=bank, upload=upload, result=result, form=form,
        shown=shown, page=page, page_size=PREVIEW_PAGE_SIZE, duplicate_at=duplicate_at,
        unsupported_kinds=unsupported_kinds, field_label=field_label,
        letters=OPTION_LETTERS), status


# --- questions -----------------------------------------------------------------------------


def _form_content(form: QuestionForm) -> QuestionContent:
    kind = form.type.data or "single"
    if kind == "true_false":
        options: list[str] = []
        answer: list[int] | bool = form.true_false.data == "true"
    else:
        chosen = set(form.correct.data or [])
        options, answer = [], []
        for letter, field in zip(OPTION_LETTERS, form.option_fields(), strict=True):
            text = (field.data or "").strip()
            if text:
                if letter in chosen:
                    answer.append(len(options))
                options.append(text)
    return QuestionContent(type=kind, stem=(form.stem.data or "").strip(), options=options,
                           answer=answer, explanation=(form.explanation.data or "").strip(),
                           category=(form.category.data or "").strip(),
                           difficulty=form.difficulty.data or "medium")


def _fill_form(form: QuestionForm, content: QuestionContent) -> None:
    form.type.data = content.type
    form.stem.data = content.stem
    for index, field in enumerate(form.option_fields()):
        field.data = content.options[index] if index < len(content.options) else ""
    if isinstance(content.answer, bool):
        form.true_false.data = "true" if content.answer else "false"
        form.correct.data = []
    else:
        form.correct.data = [OPTION_LETTERS[i] for i in content.answer if i < len(OPTION_LETTERS)]
    form.explanation.data = content.explanation
    form.category.data = content.category
    form.difficulty.data = content.difficulty


def _attach_errors(form: QuestionForm, errors: list[Any]) -> None:
    for error in errors:
        name = error.field
        if name == "answer":
            name = "true_false" if form.type.data == "true_false" else "correct"
        elif name == "options":
            name = "option_a"
        target = getattr(form, name, None)
        if target is not None and hasattr(target, "errors") and isinstance(target.errors, list):
            target.errors.append(error.reason)
        else:
            form.stem.errors.append(error.reason)  # type: ignore[attr-defined]


@bp.route("/banks/<int:bank_id>/questions/new", methods=["GET", "POST"])
@require(*STAFF)
def new_question(bank_id: int) -> str | Response | tuple[str, int]:
    bank = visible_bank(bank_id)
    form = QuestionForm()
    if form.validate_on_submit():
        content = _form_content(form)
        problems = validate(content)
        if not problems:
            question = services.add_question(bank, content, current_user, services.DRAFT)
            from trainer.audit import services as audit

            audit.record(current_user, "question.create", "question", question.id,
                         after={"bank": bank.id})
            db.session.commit()
            flash(_("Question added as a draft."), "success")
            return redirect(url_for("questions.edit_question", question_id=question.id))
        _attach_errors(form, problems)
    status = 400 if request.method == "POST" else 200
    return render_template("questions/question_form.html", bank=bank, question=None,
                           form=form, versions=[], status_form=None), status


@bp.route("/<int:question_id>/edit", methods=["GET", "POST"])
@require(*STAFF)
def edit_question(question_id: int) -> str | Response | tuple[str, int]:
    question = visible_question(question_id)
    current = question.current_version
    form = QuestionForm()
    if request.method == "GET" and current is not None:
        _fill_form(form, current.content())
    if form.validate_on_submit():
        content = _form_content(form)
        if current is not None and _same(content, current.content()):
            flash(_("Nothing changed."), "success")
            return redirect(url_for("questions.edit_question", question_id=question.id))
        try:
            version = services.edit_question(question, content, current_user)
        except services.InvalidContent as exc:
            db.session.rollback()
            _attach_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(_("Saved as version %(number)s; earlier versions are kept.",
                    number=version.number), "success")
            return redirect(url_for("questions.edit_question", question_id=question.id))
    versions = db.session.scalars(sa.select(QuestionVersion)
                                  .where(QuestionVersion.question_id == question.id)
                                  .order_by(QuestionVersion.number.desc())).all()
    status = 400 if request.method == "POST" else 200
    return render_template("questions/question_form.html", bank=question.bank,
                           question=question, form=form, versions=versions,
                           status_form=StatusForm()), status


def _same(a: QuestionContent, b: QuestionContent) -> bool:
    return (a.type, a.stem, list(a.options), a.answer, a.explanation, a.category,
            a.difficulty) == (b.type, b.stem, list(b.options), b.answer, b.explanation,
                              b.category, b.difficulty)


@bp.route("/<int:question_id>/status", methods=["POST"])
@require(*STAFF)
def question_status(question_id: int) -> Response:
    question = visible_question(question_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    if services.set_status([question], form.status.data or "draft"):
        from trainer.audit import services as audit

        audit.record(current_user, "question.status", "question", question.id,
                     after={"status": form.status.data})
    db.session.commit()
    flash(_("Marked ready.") if form.status.data == "ready" else _("Marked draft."), "success")
    return redirect(url_for("questions.edit_question", question_id=question.id))


@bp.route("/media/<path:key>")
@require()
def media(key: str) -> Response:
    """A question image. Any signed-in user (workers see them in exams): keys are SHA-256
    digests of the content, re-encoded on import, so they can be cached for good."""
    from trainer.courses.storage import StorageError, check_key, get_storage

    if not key.startswith("images/") or not re.fullmatch(r"images/[0-9a-f]{64}\.(png|jpg)", key):
        abort(404)
    full = services.IMAGE_PREFIX + key[len("images/"):]
    try:
        check_key(full)
        handle = get_storage().open(full)
    except StorageError:
        abort(404)
    response = send_file(handle, mimetype="image/png" if key.endswith(".png") else "image/jpeg",
                         max_age=365 * 24 * 3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def image_url(key: str) -> str:
    return url_for("questions.media", key="images/" + key.rsplit("/", 1)[-1])


def image_data_uri(image: Any) -> str:
    import base64

    return f"data:{image.mime};base64,{base64.b64encode(image.data).decode()}"


# --- statistics ----------------------------------------------------------------------------


@bp.route("/banks/<int:bank_id>/statistics")
@require(*STAFF)
def statistics(bank_id: int) -> str:
    from trainer.questions import stats

    bank = visible_bank(bank_id)
    records = stats.load_responses(bank.id)
    results = stats.item_analysis(records)
    questions = {q.id: (q, v) for q, v in db.session.execute(
        sa.select(Question, QuestionVersion)
        .join(QuestionVersion, Question.current_version_id == QuestionVersion.id)
        .where(Question.id.in_(list(results))))} if results else {}
    rows = sorted(results.values(), key=lambda r: (not r.needs_checking, r.question_id))
    return render_template("questions/statistics.html", bank=bank, rows=rows,
                           questions=questions, letters=OPTION_LETTERS,
                           min_responses=stats.MIN_RESPONSES, type_label=_type_label)


def _type_label(key: str) -> str:
    try:
        return str(get_type(key).label)
    except KeyError:
        return key


# --- labels for the templates --------------------------------------------------------------

KIND_LABELS = {
    "essay": _l("essay"),
    "numerical": _l("numerical"),
    "matching": _l("matching"),
    "shortanswer": _l("short answer"),
    "description": _l("description (no question)"),
    "calculated": _l("calculated"),
    "calculatedsimple": _l("calculated"),
    "calculatedmulti": _l("calculated"),
    "multianswer": _l("embedded answers (Cloze)"),
    "ddwtos": _l("drag and drop"),
    "ddimageortext": _l("drag and drop"),
    "ddmarker": _l("drag and drop"),
    "gapselect": _l("select missing words"),
    "randomsamatch": _l("random short-answer matching"),
    "random": _l("random"),
}
FORMAT_NAMES = {"xlsx": "Excel (XLSX)", "csv": "CSV", "gift": "GIFT", "aiken": "Aiken",
                "moodle-xml": "Moodle XML", "json": "JSON"}
REASON_LABELS = {
    "hard": _l("facility below 20%: check the answer key"),
    "easy": _l("facility above 95%: too easy to tell candidates apart"),
    "discrimination": _l("discrimination below 0.2: strong candidates do no better"),
}


@bp.context_processor
def _labels() -> dict[str, Any]:
    difficulty = {"easy": _l("Easy"), "medium": _l("Medium"), "hard": _l("Hard")}
    status = {"draft": _l("Draft"), "ready": _l("Ready"), "retired": _l("Retired")}
    return {
        "letters": OPTION_LETTERS,
        "image_url": image_url,
        "image_data_uri": image_data_uri,
        "type_label": _type_label,
        "difficulty_label": lambda key: difficulty.get(key, key),
        "status_label": lambda key: status.get(key, key),
        "kind_label": lambda key: KIND_LABELS.get(key, key),
        "format_label": lambda key: FORMAT_NAMES.get(key, key),
        "reason_label": lambda key: REASON_LABELS.get(key, key),
    }
