"""The migrations build exactly the schema the models declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from examsys.extensions import db


def test_migrations_match_the_models(app):
    # The test database was built by running every migration (see conftest).
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_attempt_items_keep_room_for_autosave_updates_on_postgresql(app):
    """Autosave rewrites attempt_item rows all exam long: on PostgreSQL their pages keep
    30 % free so that the new version stays on its page (see migration 0006)."""
    if db.engine.dialect.name != "postgresql":
        assert db.metadata.tables["attempt_item"].dialect_options["postgresql"]["with"] == \
            {"fillfactor": 70}
        return
    with db.engine.connect() as connection:
        options = connection.exec_driver_sql(
            "SELECT reloptions FROM pg_class WHERE relname = 'attempt_item'").scalar()
    assert "fillfactor=70" in options


def test_migrating_in_the_apps_process_leaves_its_loggers_logging(make_app, tmp_path,
                                                                 monkeypatch):
    """`examsys serve` migrates and then serves in one process: alembic's logging setup
    must not silence the loggers that already exist (it disabled every one it does not
    name)."""
    import logging

    from flask_migrate import upgrade

    from examsys.core import driver

    monkeypatch.setattr(driver.log, "disabled", False)
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    assert not driver.log.disabled
    assert not logging.getLogger("examsys").disabled
