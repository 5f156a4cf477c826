"""URL composition root: pages, the JSON API (/api), the Open311 endpoint (/open311/v2) and admin."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from smartip.core.api import api, register_routers

register_routers()

urlpatterns = [
    path("", include("smartip.portal.urls")),
    path("accounts/", include("smartip.accounts.urls")),
    path("reports/", include("smartip.reports.urls")),
    path("budgets/", include("smartip.budgeting.urls")),
    path("mobility/", include("smartip.mobility.urls")),
    path("open311/v2/", include("smartip.reports.open311.urls")),
    path("sensorthings/v1.1/", include("smartip.sensing.sensorthings.urls")),
    path("", include("smartip.sensing.site_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
