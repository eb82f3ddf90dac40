"""Importing and exporting through the CLI (`examsys import/export/spreadsheet-template`)
and the web pages: all or nothing, duplicates asked about, dry runs, hostile files."""

import io
import re
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from examsys.bank.models import Question, QuestionVersion, Topic
from examsys.extensions import db

from .conftest import csrf_from, login_page

DATA = Path(__file__).parent / "data" / "interchange"
GOOD = "::A::Lithium is a metal.{T}\n\n::B::Graphite is a metal.{F}\n"


def counts():
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Question, QuestionVersion, Topic))


def write(tmp_path, name, content) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(path)


# CLI -----------------------------------------------------------------------------------

def test_cli_imports_dry_runs_and_is_idempotent(app, runner, bank, tmp_path):
    path = write(tmp_path, "two.gift", GOOD)
    before = counts()
    result = runner.invoke(args=["import", path, "--levels", "engineer", "--topic", "chem",
                                 "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would import: 2 new questions" in result.output and counts() == before
    result = runner.invoke(args=["import", path, "--levels", "engineer", "--topic", "chem"])
    assert result.exit_code == 0 and "Imported: 2 new questions" in result.output
    assert counts()[0] == before[0] + 2
    result = runner.invoke(args=["import", path, "--levels", "engineer", "--topic", "chem"])
    assert "0 new questions, 0 new versions, 2 unchanged" in result.output


def test_cli_refuses_a_file_with_any_problem_and_lists_them(app, runner, bank, tmp_path):
    path = write(tmp_path, "bad.gift", GOOD + "\n::C::Broken {=a ~b\n")
    before = counts()
    result = runner.invoke(args=["import", path, "--levels", "engineer", "--topic", "chem"])
    assert result.exit_code == 1
    assert re.search(r"bad\.gift:5: .*unbalanced", result.output)
    assert "nothing was written" in result.output and counts() == before


def test_cli_refuses_duplicates_unless_allowed(app, runner, bank, tmp_path):
    # "Question 1 stem" is T-0001's stem in the mini bank.
    path = write(tmp_path, "dup.gift", "Question 1  STEM{T}\n")
    before = counts()
    result = runner.invoke(args=["import", path, "--levels", "engineer", "--topic", "chem"])
    assert result.exit_code == 1 and "T-0001" in result.output
    assert "--allow-duplicates" in result.output and counts() == before
    result = runner.invoke(args=["import", path, "--levels", "engineer", "--topic", "chem",
                                 "--allow-duplicates"])
    assert result.exit_code == 0 and counts()[0] == before[0] + 1


def test_cli_hostile_files_exit_1(app, runner, tmp_path):
    cases = {"bomb.xml": b'<!DOCTYPE a [<!ENTITY a "aaaa">]><quiz>&a;</quiz>',
             "junk.gift": b"\x00\x01\x02binary\xff\xfe",
             "latin1.gift": "Caf\xe9?{T}".encode("latin-1"),
             "huge.gift": b"Q?{T}\n\n" * (3 * 1024 * 1024)}
    for name, data in cases.items():
        result = runner.invoke(args=["import", write(tmp_path, name, data), "--levels",
                                     "engineer"])
        assert result.exit_code == 1, (name, result.output)
        assert "nothing was written" in result.output, name


def test_cli_shows_progress_for_large_files(app, runner, bank, tmp_path):
    text = "\n\n".join(f"Cell {n} has a nominal voltage.{{T}}" for n in range(250))
    result = runner.invoke(args=["import", write(tmp_path, "big.gift", text), "--levels",
                                 "engineer", "--topic", "chem"])
    assert result.exit_code == 0, result.output
    assert "Checking" in result.output and "Writing" in result.output
    assert "250 new questions" in result.output


def test_cli_export_and_template(app, runner, bank, tmp_path):
    out = tmp_path / "bank.xml"
    result = runner.invoke(args=["export", "--format", "moodle_xml", "-o", str(out),
                                 "--topic", "chem"])
    assert result.exit_code == 0, result.output
    assert out.read_text().count('<question type="') > 10
    result = runner.invoke(args=["spreadsheet-template", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 0
    assert load_workbook(tmp_path / "t.xlsx").sheetnames == ["questions", "columns"]


def test_import_bank_still_works(app, runner, tmp_path):
    result = runner.invoke(args=["check-bank", str(Path(__file__).parent / "data" /
                                                   "mini_bank.yaml")])
    assert result.exit_code == 0, result.output


# Web -----------------------------------------------------------------------------------

def page_form(client):
    page = client.get("/bank/interchange/")
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def post(client, token, data: bytes, name: str, **fields):
    form = {"csrf_token": token, "format": "auto", "topic": "chem", "levels": ["engineer"],
            "difficulty": "3", "status": "draft", "lang": "auto", "encoding": "utf-8",
            "file": (io.BytesIO(data), name)}
    form.update(fields)
    return client.post("/bank/interchange/import", data=form,
                       content_type="multipart/form-data")


def test_web_import_checks_confirms_duplicates_and_imports(app, client, bank, examiner):
    login_page(client, examiner.email)
    token = page_form(client)
    before = counts()
    response = post(client, token, b"Question 1 stem{T}\n\nA new question?{F}", "q.gift")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="duplicates"' in body
    assert "T-0001" in body and counts() == before
    upload = re.search(r'name="upload" type="hidden" value="([^"]+)"', body).group(1)
    confirmed = re.search(r'name="confirmed" type="hidden" value="([^"]+)"', body).group(1)
    form = {"csrf_token": token, "format": "auto", "topic": "chem", "levels": ["engineer"],
            "difficulty": "3", "status": "draft", "lang": "auto", "encoding": "utf-8",
            "upload": upload, "upload_name": "q.gift", "confirmed": confirmed,
            "allow_duplicates": "y"}
    response = client.post("/bank/interchange/import", data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert counts()[0] == before[0] + 2


def test_web_dry_run_and_problems(app, client, bank, examiner):
    login_page(client, examiner.email)
    token = page_form(client)
    before = counts()
    response = post(client, token, GOOD.encode(), "q.gift", dry_run="y")
    assert response.status_code == 200 and counts() == before
    assert "Nothing was imported" in response.get_data(as_text=True)
    response = post(client, token, b"Q?{#abc}", "q.gift")
    assert response.status_code == 422
    assert "q.gift:1" in response.get_data(as_text=True) and counts() == before


def test_web_hostile_files_get_400(app, client, bank, examiner):
    login_page(client, examiner.email)
    token = page_form(client)
    for data, name in ((b'<!DOCTYPE a [<!ENTITY a "x">]><quiz>&a;</quiz>', "a.xml"),
                       (b"\x00\x01junk", "a.gift"), (b"PK\x03\x04broken", "a.xlsx"),
                       (b"\xff\xfe\xfa", "a.csv")):
        response = post(client, token, data, name)
        assert response.status_code == 400, name
        assert "nothing was imported" in response.get_data(as_text=True)
    response = post(client, token, b"x", "a.exe")
    assert response.status_code == 400
    big = post(client, token, b"Q?{T}\n\n" * (2 * 1024 * 1024), "big.gift")
    assert big.status_code in (400, 413)


def test_web_export_and_template_downloads(app, client, bank, examiner):
    login_page(client, examiner.email)
    response = client.get("/bank/interchange/export?format=gift&lang=zh&topic=chem")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "::T-0001::第1题题干" in response.get_data(as_text=True)
    response = client.get("/bank/interchange/export?format=moodle_xml&lang=en")
    assert response.status_code == 200 and response.data.startswith(b"<?xml")
    assert client.get("/bank/interchange/export?format=pdf").status_code == 400
    xlsx = client.get("/bank/interchange/template.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert client.get("/bank/interchange/template.csv").data.startswith(b"\xef\xbb\xbfkey,")
    assert client.get("/bank/interchange/template.pdf").status_code == 404


def test_candidates_cannot_use_interchange(app, client, candidate):
    login_page(client, candidate.email)
    assert client.get("/bank/interchange/").status_code == 403
    assert client.get("/bank/interchange/template.xlsx").status_code == 403
