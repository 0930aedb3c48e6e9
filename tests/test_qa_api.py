"""API details found while using it as a district office does (QA pass)."""

from __future__ import annotations

import pytest

from tests.members.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def test_unknown_api_url_answers_readable_json(client):
    client.force_login(StaffUserFactory())
    response = client.get("/api/v1/no-such-endpoint/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.content.decode()
    assert "\\u" not in body
    assert response.json() == {"code": "not_found", "detail": "未找到。"}
