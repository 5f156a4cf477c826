"""The site's URLs plus the mobility pages, until the composition root (smartip/urls.py) includes them."""

from django.urls import include, path

from smartip.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("mobility/", include("smartip.mobility.urls")), *site_urlpatterns]
