from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("cityops.accounts.urls")),
    path("geo/", include("cityops.geography.urls")),
    path("catalog/", include("cityops.catalog.urls")),
    path("api/v1/", include("cityops.cases.api_urls")),
    path("cases/", include("cityops.cases.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
