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
