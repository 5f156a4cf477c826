from django.urls import path

from smartip.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("map.geojson", views.report_feed, name="feed"),
    path("new/", views.report_new, name="new"),
    path("new/duplicates/", views.duplicates, name="duplicates"),
    path("mine/", views.my_reports, name="mine"),
    path("queue/", views.queue, name="queue"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/support/", views.support, name="support"),
    path("<int:pk>/flag/", views.flag, name="flag"),
    path("<int:pk>/reopen/", views.reopen, name="reopen"),
    path("<int:pk>/status/", views.change_status, name="status"),
    path("<int:pk>/update/", views.add_update, name="update"),
    path("<int:pk>/reassign/", views.reassign, name="reassign"),
    path("<int:pk>/duplicate/", views.mark_duplicate, name="duplicate"),
    path("<int:pk>/moderate/", views.moderate, name="moderate"),
]
