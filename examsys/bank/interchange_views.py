"""The examiner's interchange pages: import GIFT / Moodle XML / CSV / XLSX / YAML (with a
duplicate confirmation step), export GIFT and Moodle XML, download the spreadsheet
template."""

import base64
import binascii
import hashlib
import zlib

from flask import Blueprint, Response, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from examsys.bank import importer, queries
from examsys.bank.interchange import service, spreadsheet
from examsys.bank.interchange.common import MAX_FILE_BYTES, ImportOptions
from examsys.bank.interchange.forms import ExportForm, InterchangeImportForm
from examsys.bank.models import LEVELS, Status
from examsys.bank.types import REGISTRY
from examsys.core.auth import staff_required
from examsys.core.clock import utcnow
from examsys.core.labels import level_name, status_name
from examsys.extensions import db

bp = Blueprint("bank_interchange", __name__, url_prefix="/bank/interchange")
MEDIA_TYPES = {"gift": ("text/plain; charset=utf-8", "txt"),
               "moodle_xml": ("application/xml; charset=utf-8", "xml")}


def _forms():
    topics = [SelectChoice(t.path, f"{t.path} ({t.name(_lang())})")
              for t in queries.topics(db.session)]
    form = InterchangeImportForm()
    form.topic.choices = [SelectChoice("", "—"), *topics]
    form.levels.choices = [SelectChoice(code, level_name(code)) for code in LEVELS]
    statuses = [SelectChoice(s.value, status_name(s.value)) for s in Status]
    form.status.choices = statuses
    export = ExportForm(request.args)
    export.topic.choices = [SelectChoice("", _("All topics")), *topics]
    export.status.choices = [SelectChoice("", _("Any")), *statuses]
    return form, export


def _lang() -> str:
    from flask import g

    return g.lang


def _page(form, export, status=200, **context):
    context.setdefault("problems", [])
    context.setdefault("warnings", [])
    context.setdefault("duplicates", [])
    return render_template("bank/interchange/index.html", form=form, export=export,
                           **context), status


@bp.route("/", methods=["GET"])
@staff_required
def index():
    form, export = _forms()
    return _page(form, export)


def _pack(data: bytes) -> str:
    return base64.b64encode(zlib.compress(data, 6)).decode()


def _unpack(text: str) -> bytes | None:
    """The file carried by the confirmation step; None if it was tampered into junk."""
    try:
        packed = base64.b64decode(text, validate=True)
        inflater = zlib.decompressobj()
        data = inflater.decompress(packed, MAX_FILE_BYTES + 1)
    except (binascii.Error, zlib.error, ValueError):
        return None
    return None if len(data) > MAX_FILE_BYTES or inflater.unconsumed_tail else data


def _fingerprint(duplicates) -> str:
    """What the examiner confirmed: the same duplicates, or the question is asked again."""
    text = "\n".join(f"{d.key}={d.other}" for d in duplicates)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@bp.route("/import", methods=["POST"])
@staff_required
def import_file():
    form, export = _forms()
    if not form.validate_on_submit():
        return _page(form, export, 400)
    upload = form.file.data
    if upload and upload.filename:
        name, data = upload.filename, upload.read(MAX_FILE_BYTES + 1)
    elif form.upload.data:
        name, data = form.upload_name.data or "upload", _unpack(form.upload.data)
        if data is None:
            form.file.errors.append(_("The checked file was damaged; upload it again."))
            return _page(form, export, 400)
    else:
        form.file.errors.append(_("Choose a file."))
        return _page(form, export, 400)
    fmt = service.detect_format(name, form.format.data)
    if fmt is None:
        form.format.errors.append(_("Choose the format: the file's extension does not tell."))
        return _page(form, export, 400)
    options = ImportOptions(topic=form.topic.data or None, levels=form.levels.data or [],
                            difficulty=form.difficulty.data or 3, status=form.status.data,
                            lang=form.lang.data, encoding=form.encoding.data)
    prepared = service.prepare(db.session, [service.Upload(name, data, fmt)], options)
    context = {"problems": prepared.problems, "warnings": prepared.warnings}
    if prepared.problems:
        db.session.rollback()
        return _page(form, export, 400 if prepared.unreadable else 422, **context)
    fingerprint = _fingerprint(prepared.duplicates)
    allow = bool(prepared.duplicates) and form.allow_duplicates.data and \
        form.confirmed.data == fingerprint
    if prepared.duplicates and not allow:
        db.session.rollback()
        form.upload.data, form.upload_name.data = _pack(data), name
        form.confirmed.data, form.allow_duplicates.data = fingerprint, False
        return _page(form, export, 200, duplicates=prepared.duplicates, confirm=True,
                     **context)
    try:
        report = service.commit(db.session, utcnow(), prepared, current_user.id,
                                allow_duplicates=allow,
                                publish=importer.may_publish(current_user))
    except (importer.ImportFailed, service.DuplicatesFound):  # checked just above
        db.session.rollback()
        raise
    if form.dry_run.data:
        db.session.rollback()
        flash(_("The file is valid: %(n)d questions. Nothing was imported (check only).",
                n=len(prepared.doc.questions)), "info")
    else:
        db.session.commit()
        flash(_("Imported: %(created)d new questions, %(versions)d new versions, "
                "%(unchanged)d unchanged, %(topics)d new topics.", created=report.created,
                versions=report.new_versions, unchanged=report.unchanged,
                topics=report.topics), "success")
        if notice := importer.review_notice(report):
            flash(notice, "info")
    fresh, export = _forms()
    return _page(fresh, export, 200, report=report, **context)


@bp.route("/export", methods=["GET"])
@staff_required
def export_file():
    form, export = _forms()
    if not export.validate():
        return _page(form, export, 400)
    data, notes = service.export(db.session, export.format.data, export.lang.data,
                                 export.topic.data or None, export.status.data or None)
    db.session.rollback()
    media, ext = MEDIA_TYPES[export.format.data]
    stem = "examsys-" + (export.topic.data.replace("/", "-") if export.topic.data else "bank")
    response = Response(data, mimetype=media.split(";")[0], content_type=media)
    response.headers["Content-Disposition"] = f'attachment; filename="{stem}.{ext}"'
    if notes:
        # The notes fit a header for a handful of questions; the CLI prints them all.
        response.headers["X-Examsys-Export-Notes"] = str(len(notes))
    return response


@bp.route("/template.<ext>", methods=["GET"])
@staff_required
def template(ext):
    available = set(REGISTRY)
    if ext == "xlsx":
        data = spreadsheet.template_xlsx(available, spreadsheet.column_notes())
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif ext == "csv":
        data, media = spreadsheet.template_csv(available), "text/csv; charset=utf-8"
    else:
        abort(404)
    response = Response(data, content_type=media)
    response.headers["Content-Disposition"] = f'attachment; filename="examsys-questions.{ext}"'
    return response
