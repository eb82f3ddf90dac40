"""The examiner's bank pages: list with bulk actions, preview, history, import."""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from examsys.accounts.models import User
from examsys.bank import curation, importer, queries
from examsys.bank.diff import diff
from examsys.bank.forms import BulkForm, ImportForm, WorkflowForm
from examsys.bank.models import LEVELS, Question, QuestionVersion, Status
from examsys.bank.rendering import question_html
from examsys.bank.types import REGISTRY, get_type
from examsys.core.auth import staff_required
from examsys.core.clock import utcnow
from examsys.core.errors import DomainError
from examsys.extensions import db

bp = Blueprint("bank", __name__, url_prefix="/bank")


def review_action_name(code: str) -> str:
    return {"comment": _("comment"), "submit": _("submitted for review"),
            "approve": _("approved"), "reject": _("sent back"), "retire": _("retired"),
            "reopen": _("reopened"), "edit": _("new version")}.get(code, code)


@bp.app_context_processor
def _template_helpers():
    # question_html is also what the exam page needs to show formatted stems.
    return {"question_html": question_html, "review_action_name": review_action_name}


@bp.route("/")
@staff_required
def index():
    filters = {k: request.args.get(k) or None
               for k in ("topic", "level", "status", "type", "difficulty", "tag", "q")}
    page = request.args.get("page", 1, type=int)
    rows, total = queries.list_questions(
        db.session, topic=filters["topic"], level=filters["level"], status=filters["status"],
        qtype=filters["type"], text=filters["q"], page=page,
        difficulty=request.args.get("difficulty", type=int), tag=filters["tag"])
    topics = queries.topics(db.session)
    bulk = BulkForm()
    bulk.topic.choices = [SelectChoice(t.path, "— " * t.path.count("/") + t.name(g.lang))
                          for t in topics]
    return render_template("bank/index.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // queries.PAGE_SIZE)), filters=filters,
                           topics=topics, levels=LEVELS, bulk=bulk,
                           statuses=[s.value for s in Status], types=sorted(REGISTRY))


@bp.route("/bulk", methods=["POST"])
@staff_required
def bulk_action():
    form = BulkForm()
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()][:500]
    back = request.form.get("next") or url_for("bank.index")
    if not back.startswith("/bank/"):
        back = url_for("bank.index")
    if not form.validate_on_submit() or not ids:
        flash(_("Choose at least one question and an action."), "error")
        return redirect(back)
    try:
        result = curation.bulk(db.session, utcnow(), current_user.id, ids, form.action.data,
                               form.topic.data)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(back)
    db.session.commit()
    flash(_("%(changed)d question(s) changed, %(skipped)d skipped (not in a state that "
            "allows it).", changed=result.changed, skipped=result.skipped), "success")
    return redirect(back)


@bp.route("/questions/<int:question_id>")
@staff_required
def preview(question_id):
    question = db.session.get(Question, question_id) or abort(404)
    versions = db.session.scalars(select(QuestionVersion).where(
        QuestionVersion.question_id == question.id).order_by(QuestionVersion.number.desc())).all()
    number = request.args.get("version", type=int)
    version = next((v for v in versions if v.number == number), None) or \
        question.current_version
    qtype = get_type(version.type)
    order = qtype.shuffle(version.payload, None, False)
    view = qtype.present(version.payload, order, g.lang)
    view.update(position=0, type=qtype.name, response=None)
    return render_template("bank/preview.html", question=question, version=version,
                           versions=versions, view=view, item=view,
                           key_text=qtype.describe_key(version.payload, g.lang),
                           thread=curation.thread(db.session, question),
                           workflow=WorkflowForm(), can_review=_can_review(question),
                           stem_html=question_html(version.payload["stem"], g.lang))


def _can_review(question: Question) -> bool:
    version = question.current_version
    return question.status == Status.REVIEW and version.author_id != current_user.id


@bp.route("/questions/<int:question_id>/workflow", methods=["POST"])
@staff_required
def workflow(question_id):
    question = db.session.get(Question, question_id) or abort(404)
    form = WorkflowForm()
    action = request.form.get("action", "")
    if not form.validate_on_submit():
        flash(_("The form has expired. Please try again."), "error")
        return redirect(url_for("bank.preview", question_id=question.id))
    try:
        if action == "comment":
            curation.add_comment(db.session, utcnow(), current_user.id, question,
                                 form.comment.data)
        else:
            curation.transition(db.session, utcnow(), current_user.id, question, action,
                                form.comment.data)
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
        return redirect(url_for("bank.preview", question_id=question.id)), 303
    db.session.commit()
    flash(_("Saved."), "success")
    return redirect(url_for("bank.preview", question_id=question.id)), 303


@bp.route("/questions/<int:question_id>/history")
@staff_required
def history(question_id):
    question = db.session.get(Question, question_id) or abort(404)
    versions = curation.versions(db.session, question)
    by_number = {v.number: v for v in versions}
    new = by_number.get(request.args.get("to", type=int)) or versions[-1]
    old = by_number.get(request.args.get("from", type=int)) or by_number.get(new.number - 1)
    ids = {v.author_id for v in versions if v.author_id}
    authors = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) \
        if ids else {}
    return render_template("bank/history.html", question=question, versions=versions,
                           old=old, new=new, changes=diff(old, new), authors=authors,
                           thread=curation.thread(db.session, question))


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def import_bank():
    form = ImportForm()
    report, problems = None, []
    if form.validate_on_submit():
        upload = form.file.data
        doc, problems = importer.read_upload(upload.filename or "upload.yaml", upload.read())
        try:
            report = importer.apply(db.session, utcnow(), doc, current_user.id, problems,
                                    publish=importer.may_publish(current_user))
        except importer.ImportFailed as failed:
            problems = failed.problems
        if problems:
            db.session.rollback()
        elif form.dry_run.data:
            db.session.rollback()
            flash(_("The file is valid. Nothing was imported (check only)."), "info")
        else:
            db.session.commit()
            flash(_("Imported: %(created)d new questions, %(versions)d new versions, "
                    "%(unchanged)d unchanged.", created=report.created,
                    versions=report.new_versions, unchanged=report.unchanged), "success")
            if notice := importer.review_notice(report):
                flash(notice, "info")
    status = 422 if problems else (400 if form.errors else 200)
    return render_template("bank/import.html", form=form, report=report,
                           problems=problems), status


# The authoring routes share this blueprint.
from examsys.bank import authoring_views  # noqa: E402, F401
