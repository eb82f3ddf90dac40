"""The examiner's bank pages: list, preview, import."""

from flask import Blueprint, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from examsys.bank import importer, queries
from examsys.bank.forms import ImportForm
from examsys.bank.models import LEVELS, Question, QuestionVersion, Status
from examsys.bank.types import REGISTRY, get_type
from examsys.core.auth import staff_required
from examsys.core.clock import utcnow
from examsys.extensions import db

bp = Blueprint("bank", __name__, url_prefix="/bank")


@bp.route("/")
@staff_required
def index():
    filters = {k: request.args.get(k) or None for k in ("topic", "level", "status", "type", "q")}
    page = request.args.get("page", 1, type=int)
    rows, total = queries.list_questions(
        db.session, topic=filters["topic"], level=filters["level"], status=filters["status"],
        qtype=filters["type"], text=filters["q"], page=page)
    return render_template("bank/index.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // queries.PAGE_SIZE)), filters=filters,
                           topics=queries.topics(db.session), levels=LEVELS,
                           statuses=[s.value for s in Status], types=sorted(REGISTRY))


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
    return render_template("bank/preview.html", question=question, version=version,
                           versions=versions, view=qtype.present(version.payload, order,
                                                                 _lang()),
                           key=qtype.display(order, qtype.key(version.payload)))


def _lang() -> str:
    from flask import g

    return g.lang


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def import_bank():
    form = ImportForm()
    report, problems = None, []
    if form.validate_on_submit():
        upload = form.file.data
        doc, problems = importer.read_upload(upload.filename or "upload.yaml", upload.read())
        try:
            report = importer.apply(db.session, utcnow(), doc, current_user.id, problems)
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
    status = 422 if problems else (400 if form.errors else 200)
    return render_template("bank/import.html", form=form, report=report,
                           problems=problems), status
