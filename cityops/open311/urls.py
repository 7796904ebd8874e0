"""Routes of the GeoReport v2 adapter, mounted at ``/open311/``."""

from django.urls import path, re_path

from cityops.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)$"
# A key (service code, request id, token): no slash, and no NUL (PostgreSQL refuses it in a query);
# a path with one falls to ``not_found`` below and is answered 404 in the asked format.
KEY = r"[^/\x00]+"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    path("v2/", views.root, name="root"),
    re_path(r"^v2/services" + FMT, views.service_list, name="services"),
    re_path(r"^v2/services/(?P<code>" + KEY + "?)" + FMT, views.service_definition, name="service"),
    re_path(r"^v2/requests" + FMT, views.request_list, name="requests"),
    re_path(r"^v2/requests/(?P<number>" + KEY + "?)" + FMT, views.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>" + KEY + "?)" + FMT, views.token, name="token"),
    re_path(r"^v2/servicerequestupdates" + FMT, views.update_list, name="updates"),
    re_path(r"^media/(?P<number>" + KEY + ")/(?P<attachment>[0-9]{1,18})$", views.media, name="media"),
    re_path(r"^[\s\S]*?(?:\.(?P<fmt>json|xml))?$", views.not_found),  # errors in the asked format
]
