from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from cityops.core.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("cityops.accounts.urls")),
    path("", include("cityops.public.urls")),
    path("geo/", include("cityops.geography.urls")),
    path("catalog/", include("cityops.catalog.urls")),
    path("api/v1/toilets/", include("cityops.facilities.api_urls")),
    path("api/v1/evaluation/", include("cityops.evaluation.api_urls")),
    path("api/v1/", include("cityops.cases.api_urls")),
    path("cases/", include("cityops.cases.urls")),
    path("dashboard/", include("cityops.dashboards.urls")),
    path("evaluation/", include("cityops.evaluation.urls")),
    path("facilities/", include("cityops.facilities.urls")),
    path("toilets/", include("cityops.facilities.public_urls")),
    path("open311/", include("cityops.open311.urls")),
]
# Stored photos are never served by their path (``MEDIA_URL``), not even in development: a private
# case's photo would be anyone's who guessed it. Each one is served by a view that asks the case's
# selector first (the staff page and API, the public tracking page, Open311 media).
