"""The REST API under /api/v1/: every app's routes, the OpenAPI schema and its documentation.

URL names live in the ``api`` namespace: ``reverse("api:building-list")``.
The schema and the documentation pages are public (they describe the API, they
hold no data); every data endpoint needs a login or an API key. The
documentation lives under /api/v1/docs/: Swagger UI there, ReDoc at
/api/v1/docs/redoc/ (each links to the other); /api/v1/redoc/ is kept for old links.
"""

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from buildings.api.urls import urlpatterns as buildings_urls
from committees.api.urls import urlpatterns as committees_urls
from core.api import api_not_found
from core.api.errors import api_root
from members.api.urls import urlpatterns as members_urls
from services.api.urls import urlpatterns as services_urls

app_name = "api"

# The documentation pages' title, for people (the schema's own title is ASCII: core/api/schema.py).
DOCS_TITLE = "楼宇党建 API"

urlpatterns = [
    *buildings_urls,
    *members_urls,
    *committees_urls,
    *services_urls,
    # Its download's file name is the (ASCII) title: "Building Party Portal API.yaml".
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema", title=DOCS_TITLE), name="docs"),
    path(
        "docs/redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", title=DOCS_TITLE),
        name="docs-redoc",
    ),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema", title=DOCS_TITLE), name="redoc"),
    # The API's root points to its documentation: a browser is sent there, a client gets the links.
    path("", csrf_exempt(api_root), name="root"),
    # Last: anything else under /api/v1/ is a JSON 404 (ids that are not numbers included).
    re_path(r"^.*$", api_not_found),
]
