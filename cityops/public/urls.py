from django.urls import path

from cityops.public import views

app_name = "public"
urlpatterns = [
    path("report/", views.report, name="report"),
    path("report/types", views.type_options, name="type_options"),
    path("report/nearby", views.nearby, name="nearby"),
    path("report/metoo", views.follow, name="follow"),
    path("report/thanks/", views.thanks, name="thanks"),
    path("track/", views.track, name="track"),
    path("track/<key:number>/", views.track_case, name="track_case"),
    path("track/<key:number>/rate", views.rate, name="rate"),
    path("track/<key:number>/reopen", views.reopen, name="reopen"),
    path("track/<key:number>/photos/<int:pk>", views.photo, name="photo"),
    path("map/", views.map_page, name="map"),
    path("map/cases.geojson", views.map_geojson, name="map_geojson"),
    path("figures/", views.figures, name="figures"),
]
