"""The air pages, mounted at "air/" inside the "sensing" namespace (see site_urls.py)."""

from django.urls import path

from smartip.sensing import views

urlpatterns = [
    path("", views.air_map, name="map"),
    path("sensors.geojson", views.air_feed, name="feed"),
    path("sensors/<int:pk>/", views.sensor_detail, name="sensor"),
    path("sensors/<int:pk>/export.<str:fmt>", views.sensor_export, name="export"),
    path("neighbourhoods/", views.neighbourhoods, name="neighbourhoods"),
    path("sensors/<int:pk>/alert/", views.subscribe_alert, {"kind": "sensor"}, name="subscribe-sensor"),
    path(
        "neighbourhoods/<int:pk>/alert/",
        views.subscribe_alert,
        {"kind": "neighbourhood"},
        name="subscribe-neighbourhood",
    ),
    path("alerts/", views.my_alerts, name="alerts"),
    path("alerts/<int:pk>/delete/", views.delete_alert, name="delete-alert"),
    path("host/", views.host_guide, name="host"),
    path("register/", views.register, name="register"),
    path("calibration/", views.calibration_report, name="calibration"),
]
