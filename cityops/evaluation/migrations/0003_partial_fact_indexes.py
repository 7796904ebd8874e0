"""Index the mostly empty columns of the case facts only where they are set.

A new report leaves most step columns of its fact empty (verification, dispatch, handling, checking,
closing, and the people and department of those steps), and each of their indexes still took an
entry for it. Every query on them (a period's range, a person, a department) implies IS NOT NULL, so
partial indexes serve them on both databases. The foreign keys' own indexes are dropped by name (the
same on SQLite and PostgreSQL), so SQLite does not rebuild the table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


FK_INDEXES = [
    ("evaluation_casefact_checker_id_747bb93e", "checker_id"),
    ("evaluation_casefact_closer_id_6e6670d4", "closer_id"),
    ("evaluation_casefact_department_id_54a52ac4", "department_id"),
    ("evaluation_casefact_dispatcher_id_58fd9e08", "dispatcher_id"),
    ("evaluation_casefact_filer_id_90abcb88", "filer_id"),
    ("evaluation_casefact_reporter_id_d19c4748", "reporter_id"),
    ("evaluation_casefact_verifier_id_466060aa", "verifier_id"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_drop_covered_fk_indexes'),
        ('evaluation', '0002_snapshot_days'),
        ('organization', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_verify',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_file_start',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_file_end',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_dispatch_start',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_dispatch_end',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_handle_start',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_handle_end',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_check',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_close_end',
        ),
        migrations.RemoveIndex(
            model_name='casefact',
            name='fact_dept_handle',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='casefact',
                    name='checker',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='casefact',
                    name='closer',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='casefact',
                    name='department',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='organization.department', verbose_name='responsible department'),
                ),
                migrations.AlterField(
                    model_name='casefact',
                    name='dispatcher',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='casefact',
                    name='filer',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='casefact',
                    name='reporter',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='casefact',
                    name='verifier',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "evaluation_casefact" ("{column}")',
                )
                for name, column in FK_INDEXES
            ],
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('verify_start__isnull', False)), fields=['verify_start'], name='fact_verify'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('file_start__isnull', False)), fields=['file_start'], name='fact_file_start'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('file_end__isnull', False)), fields=['file_end'], name='fact_file_end'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('dispatch_start__isnull', False)), fields=['dispatch_start'], name='fact_dispatch_start'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('dispatch_end__isnull', False)), fields=['dispatch_end'], name='fact_dispatch_end'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('handle_start__isnull', False)), fields=['handle_start'], name='fact_handle_start'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('handle_end__isnull', False)), fields=['handle_end'], name='fact_handle_end'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('check_start__isnull', False)), fields=['check_start'], name='fact_check'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('close_end__isnull', False)), fields=['close_end'], name='fact_close_end'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('department__isnull', False)), fields=['department', 'handle_start'], name='fact_dept_handle'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('reporter__isnull', False)), fields=['reporter'], name='fact_reporter'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('verifier__isnull', False)), fields=['verifier'], name='fact_verifier'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('filer__isnull', False)), fields=['filer'], name='fact_filer'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('dispatcher__isnull', False)), fields=['dispatcher'], name='fact_dispatcher'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('checker__isnull', False)), fields=['checker'], name='fact_checker'),
        ),
        migrations.AddIndex(
            model_name='casefact',
            index=models.Index(condition=models.Q(('closer__isnull', False)), fields=['closer'], name='fact_closer'),
        ),
    ]
