"""Substring indexes for the queue's text search (see ``cityops.cases.search``)."""

from django.db import migrations


def forwards(apps, schema_editor):
    from cityops.cases.search import ensure_text_index

    ensure_text_index(schema_editor.connection.alias)


def backwards(apps, schema_editor):
    from cityops.cases.search import drop_text_index

    drop_text_index(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_report_key")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
