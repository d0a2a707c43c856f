from django.urls import path

from . import entry_views, review_views, views

app_name = "collection"
urlpatterns = [
    path("rounds/", views.RoundListView.as_view(), name="round_list"),
    path("rounds/new/", views.round_open, name="round_open"),
    path("rounds/<int:pk>/", views.RoundView.as_view(), name="round"),
    path("rounds/<int:pk>/assignments/", views.round_assignments, name="round_assignments"),
    path("rounds/<int:pk>/status/", views.round_status, name="round_status"),
    path("rounds/<int:pk>/places/<str:code>/", entry_views.entry, name="entry"),
    path("rounds/<int:pk>/completeness/", review_views.completeness, name="completeness"),
    path(
        "rounds/<int:pk>/completeness/remind/",
        review_views.completeness_remind,
        name="completeness_remind",
    ),
    path("rounds/<int:pk>/discrepancies/", review_views.discrepancies, name="discrepancies"),
    path("rounds/<int:pk>/adjudicate/", review_views.adjudicate, name="adjudicate"),
    path("submissions/<int:pk>/", entry_views.submission_view, name="submission"),
    path("submissions/<int:pk>/save/", entry_views.submission_save, name="submission_save"),
    path(
        "submissions/<int:pk>/steps/<str:step>/",
        entry_views.submission_step,
        name="submission_step",
    ),
    path(
        "submissions/<int:pk>/comments/", entry_views.submission_comment, name="submission_comment"
    ),
    path(
        "submissions/<int:pk>/evidence/",
        entry_views.submission_evidence,
        name="submission_evidence",
    ),
    path(
        "submissions/<int:pk>/revisions/",
        entry_views.submission_revision,
        name="submission_revision",
    ),
    path(
        "submissions/<int:pk>/template/",
        entry_views.submission_template,
        name="submission_template",
    ),
    path("submissions/<int:pk>/upload/", entry_views.submission_upload, name="submission_upload"),
    path("submissions/<int:pk>/upload/confirm/", entry_views.upload_confirm, name="upload_confirm"),
    path("revisions/<int:pk>/decide/", entry_views.revision_decide, name="revision_decide"),
    path("evidence/<int:pk>/", entry_views.evidence_file, name="evidence"),
    path("reminders/<int:pk>/read/", review_views.reminder_read, name="reminder_read"),
    path("values/<int:pk>/", views.ValueView.as_view(), name="value"),
]
