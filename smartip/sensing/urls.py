"""DIY firmware push endpoints (included at the site root): our path, Sensor.Community's, the firmware default."""

from django.urls import path

from smartip.sensing.push import push_view

app_name = "sensing"

urlpatterns = [
    path("sensing/push", push_view, name="push"),
    path("sensing/push/", push_view),
    path("v1/push-sensor-data/", push_view, name="push-sensor-community"),
    path("data.php", push_view, name="push-custom-default"),
]
