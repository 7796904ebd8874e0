"""The public toilet API, mounted at ``/api/v1/toilets/`` (before the staff API)."""

from django.urls import path

from cityops.facilities import views

app_name = "toilets_api"
urlpatterns = [path("nearest", views.api_nearest, name="nearest")]
