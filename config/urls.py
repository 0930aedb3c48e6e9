"""Root URLs: the portal at ``/``, the admin at ``/admin/``, the API at ``/api/v1/``."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic.base import RedirectView

from core.bench import bench_urlpatterns
from core.health import healthz
from services.dashboard import dashboard

# Lazy, so the admin follows the request's language like every other label.
admin.site.site_header = _("楼宇党建管理后台")
admin.site.site_title = _("楼宇党建")
admin.site.index_title = _("工作台")
# The app list beside every page took 360 px of a 1366-px laptop; the index and the breadcrumbs
# lead everywhere it did (issue 15: every admin page fits a laptop).
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Browsers ask for /favicon.ico on every page without a <link rel="icon"> (the admin).
    path("favicon.ico", RedirectView.as_view(url=settings.STATIC_URL + "favicon.svg")),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before the admin's own URLs, which would otherwise take "dashboard/" for an app label.
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="admin_dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("config.api_urls")),
    path("accounts/", include("members.urls")),
    path("notifications/", include("core.notifications.urls")),
    path("demands/", include("committees.urls")),
    path("", include("services.urls")),
]
# The benchmark's baseline view; absent (404) unless PORTAL_BENCH=1 (core/bench.py).
urlpatterns[:0] = bench_urlpatterns()
