"""The public toilet finder, mounted at ``/toilets/``."""

from django.urls import path

from cityops.facilities import views

app_name = "toilets"
urlpatterns = [path("", views.finder, name="finder")]
