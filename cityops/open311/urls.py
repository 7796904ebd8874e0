"""Routes of the GeoReport v2 adapter, mounted at ``/open311/``."""

from django.urls import path, re_path

from cityops.open311 import views

app_name = "open311"

FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="discovery"),
    path("v2/", views.root, name="root"),
    re_path(r"^v2/services" + FMT, views.service_list, name="services"),
    re_path(r"^v2/services/(?P<code>[^/]+?)" + FMT, views.service_definition, name="service"),
    re_path(r"^v2/requests" + FMT, views.request_list, name="requests"),
    re_path(r"^v2/requests/(?P<number>[^/]+?)" + FMT, views.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>[^/]+?)" + FMT, views.token, name="token"),
    re_path(r"^v2/servicerequestupdates" + FMT, views.update_list, name="updates"),
    re_path(r"^media/(?P<number>[^/]+)/(?P<attachment>[0-9]{1,18})$", views.media, name="media"),
    re_path(r"^[\s\S]*?(?:\.(?P<fmt>json|xml))?$", views.not_found),  # errors in the asked format
]
