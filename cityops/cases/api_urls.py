"""Routes of the staff API, mounted at ``/api/v1/``."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from cityops.cases import api

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("auth/token", api.TokenView.as_view(), name="token"),
    path("cases", api.CaseListView.as_view(), name="cases"),
    path("cases/<key:number>", api.CaseDetailView.as_view(), name="case"),
    path("cases/<key:number>/actions", api.CaseActionView.as_view(), name="case-actions"),
    path("cases/<key:number>/events", api.CaseEventsView.as_view(), name="case-events"),
    path("cases/<key:number>/duplicates", api.CaseDuplicatesView.as_view(), name="case-duplicates"),
    path("photos/<int:pk>", api.CasePhotoView.as_view(), name="photo"),
]
