"""Rounds belong to the province (or the nation) that runs them: ``Round.scope``, unique
per (year, kind, system, scope); filled in the next migration (a separate transaction:
PostgreSQL refuses to alter a table with row updates pending in the same one)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("collection", "0005_value_source_spatial"),
        ("indicators", "0001_initial"),
        ("places", "0002_nation_level"),
    ]

    operations = [
        migrations.AlterUniqueTogether(
            name="round",
            unique_together=set(),
        ),
        migrations.AddField(
            model_name="round",
            name="scope",
            field=models.ForeignKey(
                blank=True,
                help_text="开展本轮体检的省（或国家）。",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="scoped_rounds",
                to="places.place",
                verbose_name="组织地区",
            ),
        ),
        migrations.AddConstraint(
            model_name="round",
            constraint=models.UniqueConstraint(
                fields=("year", "kind", "system", "scope"), name="round_unique_per_scope"
            ),
        ),
        migrations.AddConstraint(
            model_name="round",
            constraint=models.UniqueConstraint(
                condition=models.Q(("scope__isnull", True)),
                fields=("year", "kind", "system"),
                name="round_unique_unscoped",
            ),
        ),
    ]
