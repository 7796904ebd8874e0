"""Staff pages, mounted at ``/facilities/``."""

from django.urls import path

from cityops.facilities import views

app_name = "facilities"
urlpatterns = [
    path("", views.facility_list, name="list"),
    path("map/", views.facility_map, name="map"),
    path("due/", views.due_list, name="due"),
    path("figures/", views.figures, name="figures"),
    path("export.xlsx", views.registry_export, name="export"),
    path("import/", views.registry_import, name="import"),
    path("inspect/", views.nearby, name="nearby"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection"),
    path("photos/<int:pk>/", views.result_photo, name="photo"),
    path("<key:code>/", views.facility_detail, name="detail"),
    path("<key:code>/inspect/", views.inspect, name="inspect"),
]
