from django.urls import path

from smartip.budgeting import views
from smartip.budgeting.views.staff import manage_audit

app_name = "budgeting"
P = "<slug:city>/<slug:slug>/"
urlpatterns = [
    path("", views.process_list, name="list"),
    path("new/", views.process_new, name="process_new"),
    path(P, views.process_detail, name="detail"),
    path(P + "proposals/", views.proposals, name="proposals"),
    path(P + "proposals/new/", views.proposal_new, name="proposal_new"),
    path(P + "proposals/<int:pk>/support/", views.support, name="support"),
    path(P + "proposals/<int:pk>/comments/", views.comment, name="comment"),
    path(P + "proposals/<int:pk>/comments/<int:comment_pk>/hide/", views.comment_hide, name="comment_hide"),
    path(P + "vote/", views.ballot, name="ballot"),
    path(P + "results/", views.results, name="results"),
    path(P + "delivery/", views.delivery, name="delivery"),
    path(P + "delivery/<int:pk>/subscribe/", views.subscribe, name="subscribe"),
    path(P + "delivery/<int:pk>/milestone/", views.milestone, name="milestone"),
    path(P + "manage/", views.manage, name="manage"),
    path(P + "manage/phase/", views.manage_phase, name="manage_phase"),
    path(P + "manage/edit/", views.process_edit, name="process_edit"),
    path(P + "manage/areas/", views.area_add, name="area_add"),
    path(P + "manage/areas/<int:pk>/", views.area_edit, name="area_edit"),
    path(P + "manage/areas/<int:pk>/remove/", views.area_remove, name="area_remove"),
    path(P + "manage/review/<int:pk>/", views.manage_review, name="manage_review"),
    path(P + "manage/merge/<int:pk>/", views.manage_merge, name="manage_merge"),
    path(P + "manage/assisted/", views.manage_assisted, name="manage_assisted"),
    path(P + "manage/census/", views.manage_census, name="manage_census"),
    path(P + "manage/count/", views.manage_count, name="manage_count"),
    path(P + "manage/audit/", manage_audit, name="manage_audit"),
]
