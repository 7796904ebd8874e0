"""Admin editing of the catalogue and the standards, and the workbook import/export pages."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityops.catalog import xlsx
from cityops.catalog.choices import Kind
from cityops.catalog.models import (
    CaseStandard,
    CatalogType,
    MajorClass,
    StandardCode,
    StandardCondition,
    StandardDefault,
    StepLimit,
)
from cityops.catalog.services import SECTION_LABELS, workbook_export, workbook_import

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMPORT_PERMS = (
    "catalog.add_casestandard",
    "catalog.change_casestandard",
    "catalog.delete_casestandard",
    "catalog.add_catalogtype",
    "catalog.change_catalogtype",
)


@admin.register(MajorClass)
class MajorClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "local")
    list_filter = ("kind", "local")
    search_fields = ("code", "name")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CatalogType)
class CatalogTypeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "major", "local", "is_public", "is_active", "keywords")
    list_filter = ("kind", "major", "local", "is_public", "is_active")
    search_fields = ("code", "name", "keywords")
    list_select_related = ("major",)
    autocomplete_fields = ("component",)
    list_per_page = 100

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        # The component picker of a matter lists components only.
        if request.GET.get("field_name") == "component":
            queryset = queryset.filter(kind=Kind.COMPONENT)
        return queryset, may_have_duplicates

    def has_delete_permission(self, request, obj=None) -> bool:
        # Cases keep their codes for years: deactivate a type instead of deleting it.
        return False


class StandardCodeInline(admin.TabularInline):
    model = StandardCode
    extra = 0
    fields = ("position", "code")


class StandardConditionForm(forms.ModelForm):
    class Meta:
        model = StandardCondition
        fields = (
            "order",
            "urgency",
            "area_class",
            "limit",
            "unit",
            "stage",
            "file_when",
            "close_when",
            "basis",
            "clock_starts",
        )
        widgets = {
            "file_when": forms.Textarea(attrs={"rows": 2}),
            "close_when": forms.Textarea(attrs={"rows": 2}),
        }


class StandardConditionInline(admin.StackedInline):
    model = StandardCondition
    form = StandardConditionForm
    extra = 0
    fields = (
        ("order", "urgency", "area_class"),
        ("limit", "unit"),
        "stage",
        "file_when",
        "close_when",
        ("basis", "clock_starts"),
    )


class WorkbookForm(forms.Form):
    workbook = forms.FileField(label=gettext_lazy("Workbook (.xlsx)"))
    dry_run = forms.BooleanField(
        label=gettext_lazy("Only check, do not change anything"), required=False, initial=False
    )

    def clean_workbook(self):
        upload = self.cleaned_data["workbook"]
        if upload.size > xlsx.MAX_BYTES:
            raise forms.ValidationError(_("The file is too large (at most 10 MB)."))
        return upload


@admin.register(CaseStandard)
class CaseStandardAdmin(admin.ModelAdmin):
    list_display = ("key", "topic", "code_list", "condition_count")
    search_fields = ("key", "topic", "codes__code", "file_when")
    inlines = (StandardCodeInline, StandardConditionInline)
    change_list_template = "admin/catalog/casestandard/change_list.html"
    fields = ("key", "order", "topic", "file_when", "note", "sources")

    def get_queryset(self, request):
        return (
            super().get_queryset(request).prefetch_related("codes").annotate(n_conditions=Count("conditions"))
        )

    @admin.display(description=gettext_lazy("codes"))
    def code_list(self, obj) -> str:
        codes = [c.code for c in obj.codes.all()]
        return ", ".join(codes[:6]) + (" …" if len(codes) > 6 else "")

    @admin.display(description=gettext_lazy("conditions"), ordering="n_conditions")
    def condition_count(self, obj) -> int:
        return obj.n_conditions

    def get_urls(self):
        extra = [
            path("import/", self.admin_site.admin_view(self.import_view), name="catalog_casestandard_import"),
            path("export/", self.admin_site.admin_view(self.export_view), name="catalog_casestandard_export"),
        ]
        return extra + super().get_urls()

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        response = HttpResponse(workbook_export(), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="catalog-standards-{stamp}.xlsx"'
        return response

    def import_view(self, request):
        if not request.user.has_perms(IMPORT_PERMS):
            raise PermissionDenied
        result = None
        form = WorkbookForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            content = form.cleaned_data["workbook"].read()
            result = workbook_import(
                content=content, dry_run=form.cleaned_data["dry_run"], actor=request.user
            )
            if result.ok and not result.dry_run:
                messages.success(request, self._summary(result))
                return redirect(reverse("admin:catalog_casestandard_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import the catalogue and standards workbook"),
            "form": form,
            "result": result,
            "summary": self._summary(result) if result and result.ok else "",
        }
        status = 400 if result is not None and not result.ok else 200
        return TemplateResponse(request, "admin/catalog/workbook_import.html", context, status=status)

    @staticmethod
    def _summary(result) -> str:
        parts = [f"{SECTION_LABELS.get(k, k)}: {v}" for k, v in result.counts.items()]
        head = _("Checked, nothing changed.") if result.dry_run else _("Workbook imported.")
        return head + " " + "; ".join(parts)


class LimitAdmin(admin.ModelAdmin):
    list_editable = ("limit", "unit")


@admin.register(StepLimit)
class StepLimitAdmin(LimitAdmin):
    list_display = ("step", "limit", "unit")


@admin.register(StandardDefault)
class StandardDefaultAdmin(LimitAdmin):
    list_display = ("urgency", "limit", "unit")
