"""/sensorthings/v1.1/: the service root and every resource path below it."""

from django.urls import path, re_path

from smartip.sensing.sensorthings.views import resource, root

app_name = "sensorthings"

urlpatterns = [
    path("", root, name="root"),
    re_path(r"^(?P<path>.+)$", resource, name="resource"),
]
