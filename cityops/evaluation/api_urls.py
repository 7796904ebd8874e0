"""Evaluation API, mounted at ``/api/v1/evaluation/``."""

from django.urls import path

from cityops.evaluation import api

app_name = "evaluation_api"
urlpatterns = [
    path("<key:object_kind>", api.EvaluationView.as_view(), name="objects"),
]
