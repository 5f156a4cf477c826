"""The whole "sensing" URL namespace: the firmware push endpoints (urls.py, at the site root) and the air
pages (page_urls.py, under air/). One include in smartip/urls.py, so that `sensing:push` and `sensing:map`
both reverse (two includes with the same namespace would hide one of them).
"""

from django.urls import include, path

from smartip.sensing.urls import urlpatterns as push_patterns

app_name = "sensing"

urlpatterns = [*push_patterns, path("air/", include("smartip.sensing.page_urls"))]
