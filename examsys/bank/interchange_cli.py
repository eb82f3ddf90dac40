"""The CLI of question interchange: `examsys import`, `examsys export`,
`examsys spreadsheet-template` (see docs/interchange.md)."""

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from examsys.bank.models import LEVELS, Status
from examsys.core.clock import utcnow
from examsys.extensions import db

# Below this many questions a progress bar is only noise.
PROGRESS_FROM = 200


class _Bars:
    """service.Progress as click progress bars on stderr, for large imports."""

    def __init__(self, enabled: bool):
        self.enabled, self.bar = enabled, None

    def start(self, label, total):
        if self.enabled and total >= PROGRESS_FROM:
            self.bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self.bar.__enter__()

    def update(self, n):
        if self.bar:
            self.bar.update(n)

    def finish(self):
        if self.bar:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.replace(";", ",").split(",") if v.strip()]


def _print(label: str, items) -> None:
    for item in items:
        click.echo(f"  {item}", err=True)
    if items:
        click.echo(label, err=True)


@click.command("import")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", default="auto", show_default=True,
              type=click.Choice(["auto", "gift", "moodle_xml", "csv", "xlsx", "yaml"]),
              help="auto: by extension (.gift/.txt, .xml, .csv, .xlsx, .yaml).")
@click.option("--topic", help="Topic path for questions the file puts in no category.")
@click.option("--levels", default="", help="Comma-separated level codes for questions "
              "that name none, e.g. engineer,skill_4.")
@click.option("--difficulty", default=3, show_default=True, type=click.IntRange(1, 5))
@click.option("--status", default=Status.DRAFT.value, show_default=True,
              type=click.Choice([s.value for s in Status]))
@click.option("--lang", default="auto", show_default=True,
              type=click.Choice(["auto", "en", "zh"]),
              help="Language of GIFT/XML texts; auto: zh when the stem has CJK characters.")
@click.option("--key-prefix", default="IMP", show_default=True,
              help="Prefix of keys derived for questions without one.")
@click.option("--encoding", default="utf-8", show_default=True,
              help="Encoding of GIFT and CSV files, e.g. gb18030.")
@click.option("--dry-run", is_flag=True, help="Check and report, write nothing.")
@click.option("--allow-duplicates", is_flag=True,
              help="Import questions whose stem is already in the bank or the file.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@with_appcontext
def import_command(paths, fmt, topic, levels, difficulty, status, lang, key_prefix, encoding,
                   dry_run, allow_duplicates, quiet):
    """Import GIFT, Moodle XML, CSV, XLSX or YAML files in one transaction (all or
    nothing)."""
    from examsys.bank import importer
    from examsys.bank.interchange import service
    from examsys.bank.interchange.common import ImportOptions

    level_list = _split(levels)
    unknown = [lv for lv in level_list if lv not in LEVELS]
    if unknown:
        raise click.BadParameter(f"unknown level(s) {', '.join(unknown)}; use "
                                 f"{', '.join(LEVELS)}", param_hint="--levels")
    uploads = []
    for path in paths:
        found = service.detect_format(path.name, fmt)
        if found is None:
            raise click.BadParameter(f"cannot tell the format of {path}; give --format",
                                     param_hint="PATHS")
        uploads.append(service.Upload(str(path), path.read_bytes(), found))
    options = ImportOptions(topic=topic, levels=level_list, difficulty=difficulty,
                            status=status, lang=lang, key_prefix=key_prefix,
                            encoding=encoding)
    bars = _Bars(not quiet)
    prepared = service.prepare(db.session, uploads, options, bars)
    _print(f"{len(prepared.warnings)} warning(s): meaning examsys cannot keep.",
           prepared.warnings)
    try:
        report = service.commit(db.session, utcnow(), prepared, None,
                                allow_duplicates=allow_duplicates, progress=bars)
    except importer.ImportFailed as failed:
        db.session.rollback()
        _print(f"{len(failed.problems)} problem(s); nothing was written.", failed.problems)
        sys.exit(1)
    except service.DuplicatesFound as found:
        db.session.rollback()
        _print(f"{len(found.duplicates)} duplicate(s) (same stem as the question named); "
               "nothing was written. Check them, then run again with --allow-duplicates.",
               found.duplicates)
        sys.exit(1)
    from examsys.cli import finish_import

    finish_import(report, dry_run)


@click.command("export")
@click.option("--format", "fmt", required=True, type=click.Choice(["gift", "moodle_xml"]))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write ('-' for standard output).")
@click.option("--lang", default="en", show_default=True, type=click.Choice(["en", "zh"]),
              help="GIFT and Moodle XML hold one language; the other is used where a "
                   "question lacks this one.")
@click.option("--topic", help="Only this topic and its subtopics.")
@click.option("--status", type=click.Choice([s.value for s in Status]))
@with_appcontext
def export_command(fmt, output, lang, topic, status):
    """Export the bank's current questions as Moodle GIFT or Moodle XML."""
    from examsys.bank.interchange import service

    data, notes = service.export(db.session, fmt, lang, topic, status)
    db.session.rollback()
    if str(output) == "-":
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
    _print(f"{len(notes)} note(s) on what {fmt} cannot carry.", notes)


@click.command("spreadsheet-template")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def template_command(output):
    """Write the spreadsheet template (.xlsx or .csv, by the name's extension)."""
    from examsys.bank.interchange import spreadsheet
    from examsys.bank.types import REGISTRY

    if output.suffix.lower() == ".csv":
        output.write_bytes(spreadsheet.template_csv(set(REGISTRY)))
    else:
        output.write_bytes(spreadsheet.template_xlsx(set(REGISTRY),
                                                     spreadsheet.column_notes()))
    click.echo(f"Wrote {output}.")


COMMANDS = (import_command, export_command, template_command)


def register(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
