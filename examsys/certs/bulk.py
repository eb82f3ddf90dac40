"""Bulk verification: many (serial, name) pairs or tokens in one request, from a CSV upload
or a JSON list. Every row gets its own answer (malformed rows too, by line number), all
certificates are loaded in one query, and the answers can be downloaded as CSV."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from examsys.certs import public, services
from examsys.core.errors import DomainError, Invalid
from examsys.core.i18n import _

HEADER_WORDS = {"serial", "name", "证书编号", "姓名", "编号", "serial number", "holder name"}


class TooLarge(DomainError):
    status = 413
    code = "payload_too_large"


@dataclass
class Row:
    line: int  # 1-based line in the CSV, or position in a JSON list
    serial: str = ""
    name: str = ""
    token: str = ""
    problem: str | None = None  # a malformed row: why, in one word
    result: services.Verification | None = field(default=None)

    @property
    def status(self) -> str:
        return "malformed" if self.problem else self.result.status

    @property
    def reason(self) -> str:
        return self.problem or self.result.reason


def limits() -> tuple[int, int]:
    config = current_app.config
    return (config.get("BULK_VERIFY_MAX_ROWS", 1000),
            config.get("BULK_VERIFY_MAX_BYTES", 256 * 1024))


def decode(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else GB18030, as Excel saves CSV on Chinese Windows."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise Invalid(_("The file is not text (save it as CSV, UTF-8)."), code="not_text")


def parse_csv(text: str) -> list[Row]:
    """One row per non-blank line; a header line (serial,name) is skipped."""
    max_rows, _max_bytes = limits()
    rows: list[Row] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for fields in reader:
            line = reader.line_num
            cells = [f.strip() for f in fields]
            if not any(cells):
                continue
            if not rows and {c.casefold() for c in cells if c} <= HEADER_WORDS:
                continue
            rows.append(_row(line, cells))
            if len(rows) > max_rows:
                raise TooLarge(_("At most %(n)d rows per check.", n=max_rows),
                               code="too_many_rows")
    except csv.Error:
        rows.append(Row(reader.line_num, problem="unreadable_csv"))
    return rows


def _row(line: int, cells: list[str]) -> Row:
    while cells and not cells[-1]:
        cells.pop()  # trailing commas, as spreadsheets write them
    if len(cells) > 2:
        return Row(line, *cells[:2], problem="too_many_columns")
    serial, name = (cells + ["", ""])[:2]
    if not serial:
        return Row(line, serial, name, problem="missing_serial")
    if not name:
        return Row(line, serial, name, problem="missing_name")
    if len(serial) > 40 or len(name) > 200:
        return Row(line, serial[:40], name[:200], problem="too_long")
    return Row(line, serial, name)


def parse_json(items) -> list[Row]:
    max_rows, _max_bytes = limits()
    if not isinstance(items, list):
        raise Invalid(_("Send {\"certificates\": [{\"serial\", \"name\"} or {\"token\"}, ...]}."),
                      code="invalid")
    if len(items) > max_rows:
        raise TooLarge(_("At most %(n)d rows per check.", n=max_rows), code="too_many_rows")
    rows = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(Row(index, problem="not_an_object"))
        elif not all(isinstance(v, str) for v in item.values()):
            rows.append(Row(index, problem="not_text"))
        elif item.get("token"):
            rows.append(Row(index, token=item["token"][:2000]))
        else:
            rows.append(_row(index, [item.get("serial", "").strip(),
                                     item.get("name", "").strip()]))
    return rows


def verify(session, now: datetime, rows: list[Row]) -> list[Row]:
    """Answer every well-formed row; certificates come from one query, whatever the count."""
    serials = {services.normalise_serial(r.serial) for r in rows if not r.problem and r.serial}
    found = public.by_serials(session, serials)
    for row in rows:
        if row.problem:
            continue
        if row.token:
            row.result = services.verify_token(session, now, row.token)
            continue
        cert = found.get(services.normalise_serial(row.serial))
        row.result = services.verify_serial(session, now, row.serial, row.name, cert) \
            if cert else services.Verification("not_found", "unknown_serial")
    return rows


CSV_COLUMNS = ["line", "serial", "name", "status", "reason", "certification", "level",
               "holder_name", "holder_name_en", "id_number", "issued", "expires",
               "superseded_by"]


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet: defuse it.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cert = row.result.certificate if row.result else None
        shown = cert is not None
        writer.writerow([_cell(v) for v in [
            row.line, row.serial or (cert.serial if shown else ""), row.name, row.status,
            row.reason, cert.certification.code if shown else "",
            cert.certification.level if shown else "",
            cert.holder_name if shown else "", cert.holder_name_en if shown else "",
            cert.id_number_masked if shown else "",
            cert.issued_at.strftime("%Y-%m-%d") if shown else "",
            cert.expires_at.strftime("%Y-%m-%d") if shown else "",
            cert.superseded_by.serial if shown and cert.superseded_by else ""]])
    return "\ufeff" + out.getvalue()  # the BOM makes Excel read UTF-8
