from django.db import migrations, models

# ``metrics.ANCHORS``, as of this migration
ANCHORS = (
    "reported_at",
    "verify_start",
    "file_start",
    "file_end",
    "dispatch_start",
    "dispatch_end",
    "handle_start",
    "handle_end",
    "check_start",
    "close_end",
)
BATCH = 100_000


def fill(apps, schema_editor):
    """Each fact's latest anchor, in the database, a batch of keys at a time (each batch commits: one
    statement over 3M facts held the whole rewrite in SQLite's log). PostgreSQL's GREATEST passes
    over NULLs; SQLite's max() returns NULL for any, so each empty anchor stands in as the report
    time, the earliest of them."""
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote(apps.get_model("evaluation", "CaseFact")._meta.db_table)
    if connection.vendor == "postgresql":
        latest = "GREATEST({})".format(", ".join(quote(a) for a in ANCHORS))
    else:
        first = quote(ANCHORS[0])
        latest = "max({})".format(", ".join([first, *(f"COALESCE({quote(a)}, {first})" for a in ANCHORS[1:])]))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(case_id), MAX(case_id) FROM {table}")
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, BATCH):
            cursor.execute(
                f"UPDATE {table} SET last_at = {latest} WHERE case_id >= %s AND case_id < %s AND last_at IS NULL",
                [start, start + BATCH],
            )


def vacuum(apps, schema_editor):
    """PostgreSQL, after rewriting every fact: VACUUM FULL writes the table anew, since the rewrite
    left a dead copy of each row behind and a scan of the facts read twice the pages (3M facts: a
    year's grid ranking 2.1 -> 3.0 s, until the table was compacted; 40 s, with the table locked).
    ANALYZE gives the planner the new column's statistics, which ``metrics.relevant`` is there for."""
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = connection.ops.quote_name(apps.get_model("evaluation", "CaseFact")._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (FULL, ANALYZE) {table}")


class Migration(migrations.Migration):
    atomic = False  # batches that commit, and VACUUM, which runs outside a transaction

    dependencies = [
        ("evaluation", "0008_vacuum_facts"),
    ]

    operations = [
        migrations.AddField(
            model_name="casefact",
            name="last_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="latest step"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="casefact",
            index=models.Index(fields=["last_at"], name="fact_last"),
        ),
        migrations.RunPython(vacuum, migrations.RunPython.noop, elidable=True),
    ]
