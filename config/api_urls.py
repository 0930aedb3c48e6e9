"""The REST API under /api/v1/ (routers of every app, the schema and the docs)."""

urlpatterns: list = []
