"""Certificate commands: signing keys, revocation and suspension, expiry reminders."""

import sys

import click
from flask.cli import with_appcontext

from examsys.core.clock import utcnow
from examsys.core.errors import DomainError
from examsys.extensions import db


def register(app) -> None:
    for command in (keys_group, revoke_command, suspend_command, reinstate_command,
                    remind_expiring_command):
        app.cli.add_command(command)


def _fail(err: DomainError) -> None:
    db.session.rollback()
    click.echo(f"Error: {err.message}", err=True)
    sys.exit(1)


@click.group("keys")
def keys_group():
    """Ed25519 keys that sign offline-verifiable credentials (see docs/certificates.md)."""


@keys_group.command("generate")
@with_appcontext
def keys_generate():
    """Make a new signing key; the current one is retired (it still verifies)."""
    from examsys.certs import keys

    row = keys.generate(db.session, utcnow())
    db.session.commit()
    click.echo(f"Generated {row.kid}; it signs from now on.")


@keys_group.command("list")
@with_appcontext
def keys_list():
    """Every key with its state: active (signs), retired (verifies), removed."""
    from examsys.certs import keys

    for row in keys.all_keys(db.session):
        click.echo(f"{row.kid}  {row.state:8}  created {row.created_at:%Y-%m-%d}"
                   + (f"  retired {row.retired_at:%Y-%m-%d}" if row.retired_at else "")
                   + (f"  removed {row.removed_at:%Y-%m-%d}" if row.removed_at else ""))


@keys_group.command("retire")
@click.argument("kid")
@with_appcontext
def keys_retire(kid):
    """Stop signing with KID (it stays published, so what it signed still verifies)."""
    from examsys.certs import keys

    try:
        keys.retire(db.session, utcnow(), kid)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"Retired {kid}. Run `examsys keys generate` if no key is active.")


@keys_group.command("remove")
@click.argument("kid")
@click.option("--yes", is_flag=True, help="Confirm: credentials signed by KID stop verifying.")
@with_appcontext
def keys_remove(kid, yes):
    """Erase a retired key: every credential it signed stops verifying offline."""
    from examsys.certs import keys

    if not yes:
        click.echo("Removing a key makes every credential it signed fail offline "
                   "verification. Re-run with --yes to do it.", err=True)
        sys.exit(2)
    try:
        keys.remove(db.session, utcnow(), kid)
    except DomainError as err:
        _fail(err)
    db.session.commit()
    click.echo(f"Removed {kid}: its private key is erased and it is no longer published.")


def _status_command(name: str, verb: str):
    @click.command(name, help=f"{name.capitalize()} a certificate, with a reason (audited; "
                              "verification shows the reason).")
    @click.argument("serial")
    @click.option("--reason", required=True)
    @click.option("--by", "actor_email", required=True, help="The examiner's email.")
    @with_appcontext
    def command(serial, reason, actor_email):
        from sqlalchemy import select

        from examsys.accounts.models import User
        from examsys.certs import lifecycle, services

        actor = db.session.scalar(select(User).where(User.email == actor_email.lower()))
        if actor is None or not actor.is_staff:
            click.echo(f"Error: {actor_email} is not an examiner or admin.", err=True)
            sys.exit(1)
        try:
            cert = getattr(lifecycle, name)(db.session, utcnow(),
                                            services.normalise_serial(serial), reason, actor.id)
        except DomainError as err:
            _fail(err)
        db.session.commit()
        click.echo(f"{cert.serial} {verb}.")

    return command


revoke_command = _status_command("revoke", "revoked")
suspend_command = _status_command("suspend", "suspended")
reinstate_command = _status_command("reinstate", "reinstated")


@click.command("remind-expiring")
@click.option("--days", default=90, show_default=True, type=int)
@with_appcontext
def remind_expiring_command(days):
    """Record a reminder for certificates expiring within DAYS (run daily from cron).

    Each certificate is reminded once per horizon; holders see the reminder on their
    certificates page, and by email where EXAMSYS_SMTP_URL is set (sent by send-mail).
    Prints one line per reminder (serial, email, expiry).
    """
    from examsys.certs import lifecycle

    due = lifecycle.send_reminders(db.session, utcnow(), days)
    db.session.commit()
    for cert in due:
        click.echo(f"{cert.serial}\t{cert.holder.email}\t{cert.expires_at:%Y-%m-%d}")
    click.echo(f"{len(due)} reminder(s) recorded.", err=True)
