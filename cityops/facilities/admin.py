"""Admin of the reference data: the registry, templates and their items. Inspections are read-only."""

from django.contrib import admin

from cityops.facilities.models import (
    ChecklistItem,
    Facility,
    FacilityIssue,
    FacilityService,
    Inspection,
    InspectionResult,
    InspectionTemplate,
)


class FacilityServiceInline(admin.TabularInline):
    model = FacilityService
    extra = 0


@admin.register(Facility)
class FacilityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "county_code", "department", "opening_hours", "free", "is_active")
    list_filter = ("kind", "is_active", "free", "accessible", "third_washroom", "county_code", "department")
    search_fields = ("code", "name", "address")
    readonly_fields = ("county_code", "township_code", "last_inspected_at", "created_at", "updated_at")
    inlines = [FacilityServiceInline]
    autocomplete_fields = ()

    def save_model(self, request, obj, form, change):
        from django.utils import timezone

        from cityops.geography.selectors import locate

        now = timezone.now()
        try:
            where = locate(obj.lat, obj.lon, at=now)
        except Exception:
            where = None
        if where is not None:
            obj.county_code = where.county.code if where.county else ""
            obj.township_code = where.township.code if where.township else ""
        if not obj.created_at:
            obj.created_at = now
        obj.updated_at = now
        super().save_model(request, obj, form, change)


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 0
    fields = ("order", "key", "name", "description", "core", "supplies", "condition_ref", "is_active")


@admin.register(InspectionTemplate)
class InspectionTemplateAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "kinds", "interval_days", "is_active")
    inlines = [ChecklistItemInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InspectionResultInline(admin.TabularInline):
    model = InspectionResult
    extra = 0
    fields = ("item", "passed", "note", "photo", "issue")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ("facility", "at", "inspector_name", "compliant", "passed")
    list_filter = ("compliant", "passed")
    search_fields = ("facility__code", "facility__name")
    inlines = [InspectionResultInline]


@admin.register(FacilityIssue)
class FacilityIssueAdmin(ReadOnlyAdmin):
    list_display = (
        "facility",
        "item",
        "case_number",
        "opened_at",
        "fail_count",
        "passing_since",
        "resolved_at",
    )
    list_filter = ("resolution",)
    search_fields = ("facility__code", "case_number")
