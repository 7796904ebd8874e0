from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from cityops.accounts.models import User
from cityops.organization.models import Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["department"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("Contact"), {"fields": ("name", "phone")}))
    list_display = ("username", "name", "email", "is_active", "is_staff")
    search_fields = ("username", "name", "email", "phone")
    inlines = [MembershipInline]
