from django.contrib import admin
from django.urls import include, path

from gvr_site.health import healthz

admin.site.site_header = "GVR Case Manager administration"
admin.site.site_title = "GVR Case Manager admin"
admin.site.index_title = "Programs, partners and participants"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics/", include("metrics.urls")),
    path("audit/", include("interventions.audit.urls")),
    path("healthz", healthz, name="health"),
    path("accounts/", include("interventions.accounts.urls")),
    path("", include("interventions.urls")),
]

handler404 = "interventions.views.not_found"
