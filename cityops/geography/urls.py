from django.urls import path

from cityops.geography import views

app_name = "geography"
urlpatterns = [
    path("areas.geojson", views.areas_geojson, name="areas_geojson"),
]
