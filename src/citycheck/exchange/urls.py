from django.urls import path

from . import views

app_name = "exchange"
urlpatterns = [
    path("", views.ledger, name="ledger"),
    path("submit/", views.submit, name="submit"),
    path("sent/<str:package_id>/", views.sent, name="sent"),
    path("sent/<str:package_id>/retry/", views.retry, name="retry"),
    path("sent/<str:package_id>/package.json", views.download, name="download"),
    path("receipts/upload/", views.receipt_upload, name="receipt_upload"),
    path("packages/upload/", views.package_upload, name="package_upload"),
    path("received/<int:pk>/", views.received, name="received"),
    path("peers/<int:peer_pk>/systems/", views.systems, name="systems"),
    path("peers/<int:peer_pk>/methods/", views.methods, name="methods"),
    path("peers/<int:peer_pk>/divisions/", views.divisions, name="divisions"),
    path("peers/<int:peer_pk>/rounds/<int:round_pk>/", views.peer_round, name="peer_round"),
    path("received/<int:pk>/receipt.json", views.received_receipt, name="received_receipt"),
]
