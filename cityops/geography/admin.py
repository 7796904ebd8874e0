"""Admin for places: areas are edited here; outlines are shown read-only and change through import."""

from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from cityops.geography import selectors
from cityops.geography.models import Area, AreaBoundary

_PAIR = re.compile(r"\[-?\d")


class AreaBoundaryInline(admin.TabularInline):
    """Versions of the outline, newest last; geometry is summarised because it can be large."""

    model = AreaBoundary
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("version", "valid_from", "valid_to", "source", "extent", "vertices")
    readonly_fields = fields
    ordering = ("version",)

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("extent (S, W, N, E)"))
    def extent(self, obj: AreaBoundary) -> str:
        return f"{obj.min_lat:.5f}, {obj.min_lon:.5f}, {obj.max_lat:.5f}, {obj.max_lon:.5f}"

    @admin.display(description=_("vertices"))
    def vertices(self, obj: AreaBoundary) -> int:
        # Each coordinate pair is the only "[" directly followed by a number: counted without parsing.
        return len(_PAIR.findall(obj.geometry))


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "level",
        "kind",
        "parent",
        "is_core",
        "area_class",
        "active",
        "has_outline",
    )
    list_filter = ("level", "kind", "is_core", "area_class", "active")
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    readonly_fields = ("updated_at",)
    inlines = [AreaBoundaryInline]

    def get_readonly_fields(self, request, obj=None):
        # Cases keep area codes; renaming a code would orphan them, so it is fixed once created.
        return ("code", *self.readonly_fields) if obj else self.readonly_fields

    def get_queryset(self, request):
        current = AreaBoundary.objects.filter(area=OuterRef("pk"), valid_to__isnull=True)
        return super().get_queryset(request).annotate(_has_outline=Exists(current))

    @admin.display(description=_("boundary"), boolean=True, ordering="_has_outline")
    def has_outline(self, obj: Area) -> bool:
        return obj._has_outline

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        selectors.clear_caches()


@admin.register(AreaBoundary)
class AreaBoundaryAdmin(admin.ModelAdmin):
    """Read-only view of one outline version, with its GeoJSON."""

    list_display = ("area", "version", "valid_from", "valid_to", "source")
    list_filter = ("area__level",)
    search_fields = ("area__code", "area__name")
    list_select_related = ("area",)
    readonly_fields = [f.name for f in AreaBoundary._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
