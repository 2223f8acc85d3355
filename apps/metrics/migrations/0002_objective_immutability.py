"""Objectives of an approved revision are immutable in the database too."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial"), ("revisions", "0002_immutability_triggers")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER metrics_objective_immutable "
            "BEFORE INSERT OR UPDATE OR DELETE ON metrics_objective "
            "FOR EACH ROW EXECUTE FUNCTION revisions_child_guard();",
            "DROP TRIGGER IF EXISTS metrics_objective_immutable ON metrics_objective;",
        ),
    ]
