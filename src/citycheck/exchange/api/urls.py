from django.urls import path

from . import views

app_name = "exchange-api"
urlpatterns = [
    path("instance/", views.InstanceView.as_view(), name="instance"),
    path("packages/", views.PackageView.as_view(), name="packages"),
    path("uploads/", views.UploadListView.as_view(), name="uploads"),
    path("uploads/<str:token>/", views.UploadView.as_view(), name="upload"),
    path("uploads/<str:token>/finish/", views.UploadFinishView.as_view(), name="upload-finish"),
    path("methods/", views.MethodListView.as_view(), name="methods"),
    path("methods/<str:name>/", views.MethodPackageView.as_view(), name="method"),
    path("divisions/", views.DivisionsView.as_view(), name="divisions"),
    path("systems/", views.SystemListView.as_view(), name="systems"),
    path(
        "systems/<str:code>/<str:version>/",
        views.SystemPackageView.as_view(),
        name="system",
    ),
]
