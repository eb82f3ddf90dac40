"""The examsys command line."""

import sqlite3

from examsys.cli import init_database
from examsys.extensions import db


def test_starting_on_a_database_with_users_neither_reseeds_nor_holds_a_lock(app, candidate):
    init_database()
    assert not db.session().in_transaction()
    if db.engine.dialect.name == "sqlite":
        # Another connection can write at once: the served app would not be locked out.
        other = sqlite3.connect(db.engine.url.database, timeout=0.5)
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        other.close()
    from examsys.bank.models import Question

    assert db.session.query(Question).count() == 0  # nothing was loaded


def test_create_user_takes_the_password_from_the_environment(runner, monkeypatch):
    monkeypatch.setenv("EXAMSYS_PASSWORD", "a good long password")
    result = runner.invoke(args=["create-user", "--role", "examiner", "--name", "王芳",
                                 "wang@example.com"])
    assert result.exit_code == 0, result.output
    again = runner.invoke(args=["create-user", "--role", "examiner", "--name", "王芳",
                                "wang@example.com"])
    assert again.exit_code == 1 and "already exists" in again.output
    monkeypatch.setenv("EXAMSYS_PASSWORD", "short")
    weak = runner.invoke(args=["create-user", "--role", "candidate", "--name", "X",
                               "x@example.com"])
    assert weak.exit_code == 1 and "at least 10 characters" in weak.output
