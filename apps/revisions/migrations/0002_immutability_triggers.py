"""Approved revisions are immutable in the database, not only in Python.

A raw UPDATE or DELETE of an approved revision, or of a section, objective or
credit tier hanging off one, fails with check_violation. Only the status
columns may still move (approved -> accepted -> superseded), never back to draft.
The trigger functions are cloned into every tenant schema with the tables
(apps.tenants.clone).
"""

from django.db import migrations

STATUS_COLUMNS = (
    "ARRAY['status', 'accepted_by_id', 'accepted_at', 'accepted_from', 'superseded_at', "
    "'superseded_by_number']"
)

REVISION_GUARD = f"""
CREATE OR REPLACE FUNCTION revisions_revision_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'revision % is approved and cannot be deleted', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' THEN
        IF NEW.status = 'draft' THEN
            RAISE EXCEPTION 'revision % is approved and cannot return to draft', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
        IF (to_jsonb(NEW) - {STATUS_COLUMNS}) IS DISTINCT FROM (to_jsonb(OLD) - {STATUS_COLUMNS}) THEN
            RAISE EXCEPTION 'revision % is approved and immutable; create a new draft', OLD.id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER revisions_revision_immutable
    BEFORE UPDATE OR DELETE ON revisions_revision
    FOR EACH ROW EXECUTE FUNCTION revisions_revision_guard();
"""

CHILD_GUARD = """
CREATE OR REPLACE FUNCTION revisions_child_guard() RETURNS trigger AS $$
DECLARE
    locked boolean;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT status <> 'draft' INTO locked FROM revisions_revision WHERE id = OLD.revision_id;
        IF locked THEN
            RAISE EXCEPTION '% of approved revision % is immutable', TG_TABLE_NAME, OLD.revision_id
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT status <> 'draft' INTO locked FROM revisions_revision WHERE id = NEW.revision_id;
        IF locked THEN
            RAISE EXCEPTION '% of approved revision % is immutable', TG_TABLE_NAME, NEW.revision_id
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    RETURN OLD;
END
$$ LANGUAGE plpgsql;

"""

# The tables whose rows belong to a revision and freeze with it.
CHILD_TABLES = ("revisions_revisionsection", "revisions_objective", "revisions_credittier")


def _child_trigger(table: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f"CREATE TRIGGER {table}_immutable BEFORE INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION revisions_child_guard();",
        f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};",
    )


class Migration(migrations.Migration):
    dependencies = [("revisions", "0001_initial")]

    operations = [
        migrations.RunSQL(
            REVISION_GUARD,
            "DROP TRIGGER IF EXISTS revisions_revision_immutable ON revisions_revision;"
            "DROP FUNCTION IF EXISTS revisions_revision_guard();",
        ),
        migrations.RunSQL(CHILD_GUARD, "DROP FUNCTION IF EXISTS revisions_child_guard();"),
        *(_child_trigger(table) for table in CHILD_TABLES),
    ]
