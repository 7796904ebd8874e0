"""Admin for the loop's reference data (dispatch rules, settings); cases and events are read-only here.

Cases change only through the transition service, so the admin shows them for support and audit
but offers no editing.
"""

from django.contrib import admin

from cityops.cases.models import Case, CaseEvent, DispatchRule, LoopSettings


@admin.register(DispatchRule)
class DispatchRuleAdmin(admin.ModelAdmin):
    list_display = ("type_code", "kind", "area_code", "department", "is_active", "note")
    list_filter = ("is_active", "kind")
    search_fields = ("type_code", "area_code", "department__name", "department__code", "note")
    autocomplete_fields = ["department"]


@admin.register(LoopSettings)
class LoopSettingsAdmin(admin.ModelAdmin):
    list_display = ("duplicate_radius_m", "duplicate_window_days", "reopen_days")

    def has_add_permission(self, request):
        return not LoopSettings.objects.exists()


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ("at", "action", "actor_name", "from_state", "to_state", "department", "note")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "type_code", "type_name", "state", "department", "reported_at", "due_at")
    list_filter = ("state", "source", "urgency", "kind")
    search_fields = ("number", "description", "address")
    list_select_related = ("department",)
    show_full_result_count = False
    inlines = [CaseEventInline]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "case", "action", "actor_name", "from_state", "to_state")
    list_filter = ("action",)
    search_fields = ("case__number",)
    list_select_related = ("case",)
    show_full_result_count = False
