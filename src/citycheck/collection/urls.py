from django.urls import path

from . import views

app_name = "collection"
urlpatterns = [
    path("rounds/", views.RoundListView.as_view(), name="round_list"),
    path("rounds/new/", views.round_open, name="round_open"),
    path("rounds/<int:pk>/", views.RoundView.as_view(), name="round"),
    path("rounds/<int:pk>/assignments/", views.round_assignments, name="round_assignments"),
    path("rounds/<int:pk>/status/", views.round_status, name="round_status"),
    path("rounds/<int:pk>/places/<str:code>/", views.entry, name="entry"),
    path("rounds/<int:pk>/completeness/", views.completeness, name="completeness"),
    path("rounds/<int:pk>/discrepancies/", views.discrepancies, name="discrepancies"),
    path("rounds/<int:pk>/adjudicate/", views.adjudicate, name="adjudicate"),
    path("submissions/<int:pk>/", views.submission_view, name="submission"),
    path("submissions/<int:pk>/save/", views.submission_save, name="submission_save"),
    path("submissions/<int:pk>/steps/<str:step>/", views.submission_step, name="submission_step"),
    path("submissions/<int:pk>/comments/", views.submission_comment, name="submission_comment"),
    path("submissions/<int:pk>/evidence/", views.submission_evidence, name="submission_evidence"),
    path("submissions/<int:pk>/revisions/", views.submission_revision, name="submission_revision"),
    path("submissions/<int:pk>/template/", views.submission_template, name="submission_template"),
    path("submissions/<int:pk>/upload/", views.submission_upload, name="submission_upload"),
    path("submissions/<int:pk>/upload/confirm/", views.upload_confirm, name="upload_confirm"),
    path("revisions/<int:pk>/decide/", views.revision_decide, name="revision_decide"),
    path("evidence/<int:pk>/", views.evidence_file, name="evidence"),
    path("reminders/<int:pk>/read/", views.reminder_read, name="reminder_read"),
    path("values/<int:pk>/", views.ValueView.as_view(), name="value"),
]
