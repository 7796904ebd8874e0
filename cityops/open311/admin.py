"""Admin of the Open311 API keys: issue, name, limit and switch off the keys clients send."""

from django.contrib import admin

from cityops.open311.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "contact", "rate_per_minute", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "key", "contact")
    readonly_fields = ("created_at",)
    fields = ("name", "key", "contact", "rate_per_minute", "is_active", "created_at")
