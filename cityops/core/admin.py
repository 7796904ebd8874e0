from itertools import pairwise

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityops.core.calendar import calendar_warnings
from cityops.core.models import CalendarDay, CalendarSource, CalendarYear, WorkPeriod, WorkSchedule


class CalendarWarningsMixin:
    """Shows the calendar coverage warnings on the calendar's own admin pages."""

    def changelist_view(self, request, extra_context=None):
        if request.method == "GET":
            for text in calendar_warnings():
                messages.warning(request, text)
        return super().changelist_view(request, extra_context)


def _day_count(is_workday: bool):
    days = (
        CalendarDay.objects.filter(date__year=OuterRef("year"), is_workday=is_workday)
        .order_by()
        .values("date__year")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(days, output_field=IntegerField()), 0)


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarWarningsMixin, admin.ModelAdmin):
    list_display = ("year", "official", "holiday_count", "workday_count", "source", "updated_at")
    list_filter = ("official",)
    search_fields = ("year", "source", "note")
    readonly_fields = ("updated_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(holidays=_day_count(False), workdays=_day_count(True))

    @admin.display(description=gettext_lazy("holidays"), ordering="holidays")
    def holiday_count(self, obj):
        return obj.holidays

    @admin.display(description=gettext_lazy("make-up working days"), ordering="workdays")
    def workday_count(self, obj):
        return obj.workdays


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarWarningsMixin, admin.ModelAdmin):
    list_display = ("date", "weekday", "is_workday", "name", "source", "note")
    list_filter = ("is_workday", "source")
    search_fields = ("name", "note")
    date_hierarchy = "date"
    readonly_fields = ("source", "updated_at")

    @admin.display(description=gettext_lazy("weekday"))
    def weekday(self, obj):
        return WEEKDAYS[obj.date.weekday()]

    def save_model(self, request, obj, form, change):
        # A day saved here is a decision by a person: re-seeding must never undo it.
        obj.source = CalendarSource.MANUAL
        super().save_model(request, obj, form, change)


class WorkPeriodFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        spans = sorted(
            (form.cleaned_data["start"], form.cleaned_data["end"])
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("start")
            and form.cleaned_data.get("end")
        )
        if not spans:
            raise ValidationError(_("A schedule needs at least one work period."))
        for (_s1, e1), (s2, _e2) in pairwise(spans):
            if s2 < e1:
                raise ValidationError(_("Work periods must not overlap."))


class WorkPeriodInline(admin.TabularInline):
    model = WorkPeriod
    formset = WorkPeriodFormSet
    extra = 0
    min_num = 1


@admin.register(WorkSchedule)
class WorkScheduleAdmin(CalendarWarningsMixin, admin.ModelAdmin):
    list_display = ("name", "valid_from", "valid_to", "periods_text")
    inlines = [WorkPeriodInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("periods")

    @admin.display(description=gettext_lazy("work periods"))
    def periods_text(self, obj):
        return ", ".join(str(p) for p in obj.periods.all())
