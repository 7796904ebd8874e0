from django.db import migrations


def vacuum(apps, schema_editor):
    """PostgreSQL: evaluation.0006 rewrote every fact (their settling moment) and 0007 added ``held``.

    VACUUM marks the rewritten pages all-visible again, so that ``selectors.settled_after`` reads the
    index ``fact_settles`` alone (an ended half year at 1M facts: 12 ms; with the pages not yet
    marked, the planner walked half the facts by their report time instead, 0.5 s), and ANALYZE gives
    the planner the new columns' statistics (without them it took every fact for not held). Outside
    a transaction, as VACUUM must run; autovacuum would do both, later."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.connection.ops.quote_name(apps.get_model("evaluation", "CaseFact")._meta.db_table)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {table}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("evaluation", "0007_fact_held"),
    ]

    operations = [
        migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True),
    ]
