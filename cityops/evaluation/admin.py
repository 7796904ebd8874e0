from django.contrib import admin

from cityops.evaluation.models import GradeThreshold, ScoreWeight, Target


@admin.register(ScoreWeight)
class ScoreWeightAdmin(admin.ModelAdmin):
    list_display = ("object_kind", "indicator", "weight", "note")
    list_filter = ("object_kind",)


@admin.register(GradeThreshold)
class GradeThresholdAdmin(admin.ModelAdmin):
    list_display = ("grade", "min_score")


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "indicator", "target_value", "unit", "deadline", "is_active")
