"""Credit tiers of an approved revision are immutable in the database too."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial"), ("revisions", "0002_immutability_triggers")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER credits_credittier_immutable "
            "BEFORE INSERT OR UPDATE OR DELETE ON credits_credittier "
            "FOR EACH ROW EXECUTE FUNCTION revisions_child_guard();",
            "DROP TRIGGER IF EXISTS credits_credittier_immutable ON credits_credittier;",
        ),
    ]
