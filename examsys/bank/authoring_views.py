"""The examiner's authoring pages: create and edit a question of any type, upload images.

Routes live on the bank blueprint (see views.py, which imports this module).
"""

from pathlib import Path

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from examsys.bank import authoring, curation, media, queries
from examsys.bank.forms import MediaForm
from examsys.bank.models import Question
from examsys.bank.types import REGISTRY
from examsys.bank.views import bp
from examsys.core.auth import any_user, staff_required
from examsys.core.clock import utcnow
from examsys.core.errors import DomainError
from examsys.extensions import db


def _media_folder() -> Path:
    return Path(current_app.instance_path) / "media"


def _form(qtype: str) -> authoring.QuestionForm:
    form = authoring.QuestionForm()
    form.set_choices(queries.topics(db.session), g.lang)
    if not form.type.data:
        form.type.data = qtype
    if form.type.data not in REGISTRY:
        abort(404)
    return form


def _render(form, question=None, problems=(), status=200):
    return render_template("bank/edit.html", form=form, question=question,
                           problems=problems, fields=REGISTRY[form.type.data].fields,
                           media_form=MediaForm()), status


@bp.route("/questions/new", methods=["GET", "POST"])
@staff_required
def new_question():
    qtype = request.args.get("type")
    if qtype is None:
        return render_template("bank/choose_type.html", types=sorted(REGISTRY))
    form = _form(qtype)
    if request.method == "GET":
        authoring.starter(form)
        return _render(form)
    return _save(form, None)


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_question(question_id):
    question = db.session.get(Question, question_id) or abort(404)
    form = _form(question.type)
    form.type.data = question.current_version.type  # the type of a question never changes
    if request.method == "GET":
        authoring.fill(form, question, question.current_version)
        return _render(form, question)
    form.key.data = question.external_key
    return _save(form, question)


def _save(form, question):
    if authoring.add_or_remove(form, request.form):
        return _render(form, question)
    if not form.validate_on_submit():
        return _render(form, question, status=400)
    record, problems = authoring.check(form)
    if problems:
        return _render(form, question, problems, 422)
    now = utcnow()
    try:
        if question is None:
            question = curation.create_question(db.session, now, current_user.id, record)
            flash(_("Question %(key)s created as a draft.", key=question.external_key),
                  "success")
        elif curation.edit_question(db.session, now, current_user.id, question, record):
            flash(_("Saved as version %(n)d.", n=question.current_version.number), "success")
        else:
            flash(_("Nothing changed in the content; no new version."), "info")
    except DomainError as err:
        db.session.rollback()
        return _render(form, question, [err.message], err.status)
    db.session.commit()
    return redirect(url_for("bank.preview", question_id=question.id), 303)


@bp.route("/media", methods=["GET", "POST"])
@staff_required
def upload_media():
    """Store an image and show the Markdown that places it in a question."""
    form = MediaForm()
    if request.method == "GET":
        return render_template("bank/media.html", form=form, name=None)
    if not form.validate_on_submit():
        return render_template("bank/media.html", form=form, name=None), 400
    try:
        name = media.store(_media_folder(), form.file.data.read(media.MAX_BYTES + 1))
    except DomainError as err:
        return render_template("bank/media.html", form=form, name=None,
                               error=err.message), err.status
    from examsys.accounts.models import User
    from examsys.core import audit

    audit.record(db.session, utcnow(), current_user.id, "media.upload",
                 db.session.get(User, current_user.id), {"file": name})
    db.session.commit()
    return render_template("bank/media.html", form=form, name=name)


@bp.route("/media/<name>")
@any_user
def media_file(name):
    """Images in questions: candidates see them too (in their exam)."""
    path = media.path_of(_media_folder(), name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=media.CONTENT_TYPES[name.rsplit(".", 1)[1]],
                         max_age=31536000, conditional=True)
    response.headers["Content-Disposition"] = "inline"
    return response
