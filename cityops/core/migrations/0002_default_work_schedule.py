"""The default work periods (08:30-12:00, 14:30-18:00), so a fresh database computes deadlines."""

import datetime
import uuid

from django.db import migrations

DEFAULT_PERIODS = [(datetime.time(8, 30), datetime.time(12, 0)), (datetime.time(14, 30), datetime.time(18, 0))]


def create_default_schedule(apps, schema_editor):
    WorkSchedule = apps.get_model("core", "WorkSchedule")
    WorkPeriod = apps.get_model("core", "WorkPeriod")
    CalendarRevision = apps.get_model("core", "CalendarRevision")
    if not WorkSchedule.objects.exists():
        schedule = WorkSchedule.objects.create(name="默认作息")
        WorkPeriod.objects.bulk_create(WorkPeriod(schedule=schedule, start=s, end=e) for s, e in DEFAULT_PERIODS)
    CalendarRevision.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})


def remove_default_schedule(apps, schema_editor):
    WorkSchedule = apps.get_model("core", "WorkSchedule")
    WorkSchedule.objects.filter(name="默认作息", valid_from=None, valid_to=None).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_calendar")]

    operations = [migrations.RunPython(create_default_schedule, remove_default_schedule)]
