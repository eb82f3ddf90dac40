"""A generation number for the drawable bank, moved on by triggers (issue 7)

Revision ID: 0007_bank_generation
Revises: 0006_hot_updates

Drawing a form read every eligible question of the bank at every exam start (5,000 rows
for a large bank: a third of a start's time). Starts now cache those pools per bank
generation (exams.assembly); this number changes whenever a question, its levels or a
topic is written, by triggers, so that every writer (the app, an import, psql by hand)
moves it in the same transaction as its change.

PostgreSQL: deferred constraint triggers run at commit, when the transaction's row locks
are all taken, so two bank writers never deadlock on the generation row; the row is
updated once per transaction (``last_xact``), however many rows it wrote; TRUNCATE moves
it too. SQLite has one writer at a time and row triggers only: each write moves the
number (and a table with triggers is never emptied without them).
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_bank_generation'
down_revision = '0006_hot_updates'
branch_labels = None
depends_on = None

TABLES = ("question", "question_level", "topic")


def upgrade():
    op.create_table(
        'bank_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.BigInteger(), nullable=False),
        sa.Column('last_xact', sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.execute("INSERT INTO bank_generation (id, number) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION examsys_bank_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE bank_generation SET number = number + 1,
                                           last_xact = txid_current()
                WHERE id = 1 AND last_xact IS DISTINCT FROM txid_current();
                RETURN NULL;
            END $$""")
        for table in TABLES:
            op.execute(f"""
                CREATE CONSTRAINT TRIGGER {table}_bank_generation
                AFTER INSERT OR UPDATE OR DELETE ON {table}
                DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION examsys_bank_changed()""")
            op.execute(f"""
                CREATE TRIGGER {table}_bank_generation_truncate AFTER TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION examsys_bank_changed()""")
        return
    for table in TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER {table}_bank_generation_{event.lower()}
                AFTER {event} ON {table}
                BEGIN UPDATE bank_generation SET number = number + 1 WHERE id = 1; END""")  # noqa: S608 - our table names


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_bank_generation ON {table}")
            op.execute(f"DROP TRIGGER {table}_bank_generation_truncate ON {table}")
        op.execute("DROP FUNCTION examsys_bank_changed()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_bank_generation_{event}")
    op.drop_table('bank_generation')
