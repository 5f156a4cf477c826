from django.urls import path

from smartip.portal.views import home

app_name = "reports"
urlpatterns = [
    path("", home, name="list"),
    path("new/", home, name="new"),
    path("mine/", home, name="mine"),
    path("queue/", home, name="queue"),
]
