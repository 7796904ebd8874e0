from django.contrib import admin

from cityops.organization.models import Department, Membership


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "parent", "area_code", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "short_name")
    autocomplete_fields = ["parent"]
    readonly_fields = ("path",)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "department", "role", "is_active")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "user__name", "department__name")
    autocomplete_fields = ["user", "department"]
