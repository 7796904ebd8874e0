from django.contrib import admin

from cityops.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "recipient", "subject", "status", "attempts", "case_number")
    list_filter = ("status", "channel")
    search_fields = ("recipient", "subject", "case_number")
    readonly_fields = [f.name for f in Notification._meta.fields]
