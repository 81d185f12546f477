from django.contrib import admin
from django.urls import include, path

from gvr_site.health import healthz
from interventions.views import field

admin.site.site_header = "GVR Case Manager administration"
admin.site.site_title = "GVR Case Manager admin"
admin.site.index_title = "Programs, partners and participants"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("metrics/", include("metrics.urls")),
    path("audit/", include("interventions.audit.urls")),
    path("healthz", healthz, name="health"),
    path("accounts/", include("interventions.accounts.urls")),
    # The installable app: at the site root, so the service worker's scope is the whole site.
    path("sw.js", field.service_worker, name="service_worker"),
    path("manifest.webmanifest", field.manifest, name="manifest"),
    path("offline/sessions/", field.send_queued_session, name="send_queued_session"),
    path("accounts/keep-alive/", field.keep_alive, name="keep_alive"),
    path("", include("interventions.urls")),
]

handler404 = "interventions.views.not_found"
handler403 = "interventions.views.errors.permission_denied"
