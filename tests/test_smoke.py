"""The project boots on PostgreSQL with the settings the README promises."""

import pytest
from django.conf import settings
from django.db import connection


def test_settings_language_and_time():
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.AUTH_USER_MODEL == "members.User"


@pytest.mark.django_db
def test_database_is_postgresql_with_btree_gist():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'btree_gist'")
        assert cur.fetchone() is not None
