from django.urls import path

from smartip.mobility import views

app_name = "mobility"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("upload/", views.upload, name="upload"),
    path("traces/<int:pk>/", views.trace, name="trace"),
    path("traces/<int:pk>/export/<str:fmt>/", views.export, name="export"),
    path("traces/<int:pk>/delete/", views.delete, name="delete"),
    path("zones/", views.zones, name="zones"),
    path("zones/<int:pk>/delete/", views.zone_delete, name="zone_delete"),
    path("planner/", views.planner, name="planner"),
    path("planner/<str:view>/", views.planner, name="planner_view"),
]
