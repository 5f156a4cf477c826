"""Open311 GeoReport v2 routes: every resource is `{resource}.{format}` (format xml or json)."""

from django.urls import re_path

from smartip.reports.open311 import views

FMT = r"\.(?P<fmt>[A-Za-z0-9]+)$"

urlpatterns = [
    re_path(r"^discovery" + FMT, views.discovery, name="open311-discovery"),
    re_path(r"^services" + FMT, views.service_list, name="open311-services"),
    re_path(r"^services/(?P<service_code>[^/]+?)" + FMT, views.service_definition, name="open311-service"),
    re_path(r"^requests" + FMT, views.requests_resource, name="open311-requests"),
    re_path(r"^requests/(?P<service_request_id>[^/]+?)" + FMT, views.request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/]+?)" + FMT, views.token_detail, name="open311-token"),
]
