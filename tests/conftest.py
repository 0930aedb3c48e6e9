"""Shared fixtures: a street social worker, district staff, an employee, each with a territory."""

import pytest
from django.core.cache import cache

from tests.buildings.factories import DistrictFactory, StreetFactory
from tests.members.factories import StaffUserFactory, UserFactory

# The real-process fixtures (a private redis-server, Celery workers, the mail they send) for the
# worker tests of services and committees.
pytest_plugins = ["tests.services.celery_harness"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with an empty cache: the rate limits (core.ratelimit) count in it."""
    cache.clear()
    yield


@pytest.fixture
def district_a():
    return DistrictFactory(name="静安区", code="310106")


@pytest.fixture
def district_b():
    return DistrictFactory(name="浦东新区", code="310115")


@pytest.fixture
def street_a(district_a):
    return StreetFactory(district=district_a, name="南京西路街道")


@pytest.fixture
def street_a2(district_a):
    return StreetFactory(district=district_a, name="静安寺街道")


@pytest.fixture
def street_b(district_b):
    return StreetFactory(district=district_b, name="陆家嘴街道")


@pytest.fixture
def social_worker(street_a):
    from django.contrib.auth.models import Group

    user = StaffUserFactory(username="shegong_test", streets=[street_a])
    group = Group.objects.filter(name="街道社工").first()
    if group:
        user.groups.add(group)
    return user


@pytest.fixture
def district_staff(district_a):
    from django.contrib.auth.models import Group

    user = StaffUserFactory(username="district_test", district=district_a)
    group = Group.objects.filter(name="区级工作人员").first()
    if group:
        user.groups.add(group)
    return user


@pytest.fixture
def employee():
    return UserFactory(username="employee_test")


@pytest.fixture
def superuser():
    return UserFactory(username="root_test", is_staff=True, is_superuser=True)
