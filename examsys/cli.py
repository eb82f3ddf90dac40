"""The examsys command: Flask's CLI group plus the commands of this product."""

import os
import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from sqlalchemy import func, select

from examsys.core.clock import utcnow
from examsys.extensions import db

BANK_DIR = Path(__file__).resolve().parent.parent / "question_bank"


def _create_app():
    from examsys import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True,
             add_version_option=False)
def main():
    """examsys: certification exams for the lithium-battery industry."""


def register_cli(app) -> None:
    for command in (init_command, serve_command, import_bank_command, check_bank_command,
                    bank_report_command, update_translations_command, create_user_command,
                    close_overdue_command, send_mail_command):
        app.cli.add_command(command)
    from examsys.certs.cli import register as register_certs_cli

    register_certs_cli(app)
    from examsys.bank.interchange_cli import register as register_interchange_cli

    register_interchange_cli(app)


def _print_problems(problems) -> None:
    for p in problems:
        click.echo(f"  {p}", err=True)
    click.echo(f"{len(problems)} problem(s); nothing was written.", err=True)


def init_database(seed: bool = True) -> None:
    """Apply migrations; on an empty database load the bundled bank and an admin."""
    from examsys.accounts.models import Role, User
    from examsys.accounts.services import create_user
    from examsys.bank import importer

    upgrade(directory=current_app.extensions["migrate"].directory)
    if not seed or db.session.scalar(select(func.count(User.id))):
        # A database with users is never reseeded. End the read: on SQLite its transaction
        # would hold the write lock for as long as the served app runs.
        db.session.rollback()
        return
    doc, problems = importer.read_files([BANK_DIR])
    try:
        report = importer.apply(db.session, utcnow(), doc, None, problems)
    except importer.ImportFailed as failed:
        _print_problems(failed.problems)
        raise SystemExit(1) from None
    email = os.environ.get("EXAMSYS_ADMIN_EMAIL", "admin@example.com")
    password = os.environ.get("EXAMSYS_ADMIN_PASSWORD")
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    create_user(db.session, utcnow(), email=email, name="Administrator", role=Role.ADMIN,
                password=password)
    db.session.commit()
    click.echo(f"Loaded the bank: {report.created} questions, {report.topics} topics, "
               f"{report.certifications} certifications.")
    if generated:
        click.echo(f"Created the admin account {email} with the password {password} "
                   "(shown once; change it or set EXAMSYS_ADMIN_PASSWORD).")
    else:
        click.echo(f"Created the admin account {email} (password from EXAMSYS_ADMIN_PASSWORD).")


@click.command("init")
@with_appcontext
def init_command():
    """Apply migrations and seed an empty database."""
    init_database()
    click.echo("Database ready.")


GUNICORN_CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def gunicorn_argv(host: str, port: int, workers: int | None) -> list[str]:
    """The gunicorn command of ``serve --production`` (settings in gunicorn.conf.py)."""
    argv = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--bind",
            f"{host}:{port}"]
    return argv + (["--workers", str(workers)] if workers else [])


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--production", is_flag=True,
              help="Serve with gunicorn and gunicorn.conf.py (workers from the CPU count); "
                   "migrates but never seeds. See docs/deploy.md.")
@click.option("--workers", type=int, help="gunicorn workers (--production; default 2×CPUs+1)")
@with_appcontext
def serve_command(host, port, threads, production, workers):
    """Prepare the database and serve the app (waitress; never in debug mode)."""
    if production:
        # Migrations run once here, before any worker starts (never in a worker).
        init_database(seed=False)
        db.session.remove()
        db.engine.dispose()  # no connection of this process may leak into gunicorn
        argv = gunicorn_argv(host, port, workers)
        click.echo(f"examsys (gunicorn) at http://{host}:{port}/: {' '.join(argv[1:])}")
        os.execv(argv[0], argv)  # noqa: S606 - our own interpreter; replaces this process
    from waitress import serve

    init_database()
    db.session.remove()
    app = current_app._get_current_object()
    app.debug = False
    click.echo(f"examsys is running at http://{host}:{port}/  (Ctrl+C to stop)")
    serve(app, host=host, port=port, threads=threads, ident="examsys")


@click.command("import-bank")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Validate and report, write nothing.")
@with_appcontext
def import_bank_command(paths, dry_run):
    """Import YAML bank files or folders in one transaction (all or nothing)."""
    from examsys.bank import importer

    doc, problems = importer.read_files(list(paths))
    try:
        report = importer.apply(db.session, utcnow(), doc, None, problems)
    except importer.ImportFailed as failed:
        db.session.rollback()
        _print_problems(failed.problems)
        sys.exit(1)
    finish_import(report, dry_run)


def finish_import(report, dry_run: bool) -> None:
    """Commit a checked import (or, for a dry run, drop it) and say what it did."""
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    click.echo(f"{'Would import' if dry_run else 'Imported'}: {report.created} new questions, "
               f"{report.new_versions} new versions, {report.unchanged} unchanged, "
               f"{report.topics} new topics, {report.certifications} certification updates.")


@click.command("check-bank")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@with_appcontext
def check_bank_command(paths):
    """Validate bank files without writing anything."""
    from examsys.bank import importer, quality

    doc, problems = importer.read_files(list(paths))
    # Quality is judged once the bank is valid: a broken file gets its own problems first.
    problems = importer.check(db.session, doc, problems) or quality.check(doc)
    db.session.rollback()
    if problems:
        _print_problems(problems)
        sys.exit(1)
    click.echo(f"OK: {len(doc.questions)} questions, {len(doc.topics)} topics, "
               f"{len(doc.certifications)} certifications.")


@click.command("bank-report")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--update-readme", is_flag=True,
              help="Write the tables into question_bank/README.md between its markers.")
def bank_report_command(paths, update_readme):
    """Coverage of a bank folder: topics × levels and topics × types (Markdown)."""
    from examsys.bank import importer
    from examsys.bank.report import coverage, replace_section

    doc, problems = importer.read_files(list(paths) or [BANK_DIR])
    if problems:
        _print_problems(problems)
        sys.exit(1)
    report = coverage(doc)
    if update_readme:
        readme = BANK_DIR / "README.md"
        readme.write_text(replace_section(readme.read_text(encoding="utf-8"), report),
                          encoding="utf-8")
        click.echo(f"Updated {readme}.")
    else:
        click.echo(report, nl=False)


@click.command("update-translations")
def update_translations_command():
    """Extract messages, merge them into the zh and en catalogues, compile; list what zh lacks."""
    from examsys.core.catalogues import update

    missing = update()
    for message in missing:
        click.echo(f"  untranslated: {message}", err=True)
    click.echo(f"Catalogues updated; {len(missing)} message(s) still need Chinese.")
    sys.exit(1 if missing else 0)


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "examiner", "candidate"]), required=True)
@click.option("--name", required=True)
@with_appcontext
def create_user_command(email, role, name):
    """Create a user; the password comes from EXAMSYS_PASSWORD or a prompt."""
    from examsys.accounts.services import create_user
    from examsys.core.errors import DomainError

    password = os.environ.get("EXAMSYS_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(db.session, utcnow(), email=email, name=name, role=role,
                           password=password)
        db.session.commit()
    except DomainError as err:
        click.echo(f"Error: {err.message}", err=True)
        sys.exit(1)
    click.echo(f"Created {user.role.value} {user.email}.")


@click.command("close-overdue")
@with_appcontext
def close_overdue_command():
    """Close and grade every attempt past its deadline, and release the results of
    after-close sessions whose windows have all closed (run it from cron every minute)."""
    from examsys.exams.delivery import close_overdue

    closed = close_overdue(db.session, utcnow())
    click.echo(f"Closed {closed} overdue attempt(s).")


@click.command("send-mail")
@click.option("--batch", default=200, show_default=True, help="messages per run at most")
@with_appcontext
def send_mail_command(batch):
    """Send the queued email that is due (run it from cron every minute; needs
    EXAMSYS_SMTP_URL). A message the server refuses is tried again later, up to 8 times."""
    from examsys.core import mail

    if not mail.enabled():
        click.echo("Mail is off: set EXAMSYS_SMTP_URL (see docs/deploy.md).", err=True)
        sys.exit(1)
    report = mail.send_due(db.session, utcnow(), batch)
    click.echo(f"Sent {report.sent}, to try again {report.failed}, given up {report.given_up}, "
               f"left for the next run {report.left}.")
    if report.failed or report.given_up:
        sys.exit(2)
