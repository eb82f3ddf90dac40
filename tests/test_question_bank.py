"""The bundled lithium-battery bank: it imports, every blueprint draws varied forms, and its
README's coverage tables are current."""

import pytest
from sqlalchemy import select

from examsys.bank import importer
from examsys.bank.report import BEGIN, END, coverage
from examsys.cli import BANK_DIR
from examsys.core.clock import utcnow
from examsys.exams.assembly import draw_form
from examsys.exams.models import Certification
from examsys.extensions import db


@pytest.fixture
def lithium_bank(app):
    doc, problems = importer.read_files([BANK_DIR])
    assert problems == []
    importer.apply(db.session, utcnow(), doc, None)
    db.session.commit()
    return doc


def test_the_bundled_bank_passes_check_bank(runner):
    result = runner.invoke(args=["check-bank", str(BANK_DIR)])
    assert result.exit_code == 0, result.output
    assert "8 certifications" in result.output


def test_every_certification_draws_forms_without_repeats_and_seeds_differ(lithium_bank):
    certifications = db.session.scalars(select(Certification)).all()
    assert len(certifications) == 8
    for cert in certifications:
        blueprint = cert.current_blueprint
        forms = [draw_form(db.session, blueprint, seed) for seed in (1, 2, 3)]
        for form in forms:
            questions = [item.version.question_id for item in form]
            assert len(questions) == blueprint.item_count, cert.code
            assert len(set(questions)) == len(questions), cert.code
        first, second = ([item.version.id for item in form] for form in forms[:2])
        assert first != second, cert.code
        # A different seed gives a substantially different form, not a reshuffle.
        assert len(set(first) & set(second)) < len(first) * 0.8, cert.code


def test_every_question_is_bilingual_and_explained(lithium_bank):
    for q in lithium_bank.questions:
        assert set(q.payload["stem"]) == {"en", "zh"}, q.key
        assert q.payload["explanation"] and set(q.payload["explanation"]) == {"en", "zh"}, q.key
        assert q.reference, q.key


def test_readme_coverage_tables_are_current(lithium_bank):
    readme = (BANK_DIR / "README.md").read_text(encoding="utf-8")
    current = readme.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert current == coverage(lithium_bank).strip(), \
        "run: examsys bank-report --update-readme"
