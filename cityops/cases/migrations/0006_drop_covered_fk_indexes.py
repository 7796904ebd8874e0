"""Drop three foreign-key indexes that a composite index already leads with.

case.department_id is the head of case_dept_state, case.inspector_id of case_inspector_state and
caseevent.case_id of event_case_at: the planners use those for the same lookups, and each redundant
index only cost every report one more B-tree insert. The indexes are dropped by name (the same on
SQLite and PostgreSQL), so SQLite does not rebuild the tables.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


INDEXES = [
    ("cases_case_department_id_c5b7309d", "cases_case", "department_id"),
    ("cases_case_inspector_id_041071f8", "cases_case", "inspector_id"),
    ("cases_caseevent_case_id_6c6031ac", "cases_caseevent", "case_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_public_open_type_index"),
        ("organization", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="department",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="organization.department",
                        verbose_name="responsible department",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="inspector",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="inspected_cases",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assigned inspector",
                    ),
                ),
                migrations.AlterField(
                    model_name="caseevent",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for name, table, column in INDEXES
            ],
        ),
    ]
