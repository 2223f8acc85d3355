"""Two fewer indexes on tickets, for bulk ingestion (docs/PERFORMANCE.md): external_id
stays unique through a constraint (without the varchar_pattern_ops index that
unique=True adds), and service_id is served by ticket_service_opened_idx."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("measurements", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ticket",
            name="external_id",
            field=models.CharField(max_length=128),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="service",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tickets",
                to="agreements.service",
            ),
        ),
        migrations.AddConstraint(
            model_name="ticket",
            constraint=models.UniqueConstraint(
                fields=("external_id",), name="ticket_external_id_unique"
            ),
        ),
    ]
