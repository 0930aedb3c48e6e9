"""The staff groups exist after migrate, with the permissions their work needs and no more."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from members.groups import DISTRICT_STAFF, SOCIAL_WORKER, ensure_groups, expected_codenames

pytestmark = pytest.mark.django_db


def perms_of(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_groups_exist_after_migrate_with_their_permissions():
    # Created by the post_migrate hook when the test database was migrated.
    assert perms_of(SOCIAL_WORKER) == expected_codenames(SOCIAL_WORKER)
    assert perms_of(DISTRICT_STAFF) == expected_codenames(DISTRICT_STAFF)


def test_every_expected_permission_exists():
    """A typo in the lists would silently grant nothing: every name must be a real permission."""
    for name in (SOCIAL_WORKER, DISTRICT_STAFF):
        for label in expected_codenames(name):
            app_label, codename = label.split(".")
            assert Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists(), (
                label
            )


def test_social_worker_keeps_the_street_records():
    perms = perms_of(SOCIAL_WORKER)
    for model in ("building", "enterprise", "partyorganization", "partymember", "membertransfer"):
        app = "buildings" if model in ("building", "enterprise") else "members"
        assert {f"{app}.add_{model}", f"{app}.change_{model}", f"{app}.view_{model}"} <= perms
    for model in ("buildingcommittee", "committeeseat"):
        assert {f"committees.add_{model}", f"committees.change_{model}"} <= perms
    for model in ("servicestation", "space", "event", "spacereservation"):
        assert {f"services.add_{model}", f"services.change_{model}"} <= perms
    assert {"services.view_booking", "services.change_booking"} <= perms
    assert {"members.view_memberlinkrequest", "members.change_memberlinkrequest"} <= perms


def test_nobody_deletes_members_or_bookings_or_sees_secrets_by_default():
    for name in (SOCIAL_WORKER, DISTRICT_STAFF):
        perms = perms_of(name)
        assert "members.delete_partymember" not in perms
        assert "services.delete_booking" not in perms
        assert "services.add_booking" not in perms
        assert "services.view_confidential" not in perms
        assert "members.view_personal_data" not in perms
        assert not any(p.startswith(("auth.", "pghistory.")) for p in perms)
        assert "members.add_user" not in perms


def test_district_staff_read_everything_and_keep_buildings_and_enterprises():
    perms = perms_of(DISTRICT_STAFF)
    assert {p for p in perms if p.split(".")[1].startswith(("add_", "change_", "delete_"))} == {
        "buildings.add_building",
        "buildings.change_building",
        "buildings.add_enterprise",
        "buildings.change_enterprise",
    }
    views = {p for p in perms if ".view_" in p}
    assert {"members.view_partymember", "services.view_booking", "committees.view_committeeseat"} <= views


def test_ensure_groups_is_idempotent_and_additive():
    extra = Permission.objects.get(codename="view_personal_data")
    group = Group.objects.get(name=SOCIAL_WORKER)
    group.permissions.add(extra)
    ensure_groups()
    ensure_groups()
    assert Group.objects.filter(name=SOCIAL_WORKER).count() == 1
    assert "members.view_personal_data" in perms_of(SOCIAL_WORKER)  # a superuser's grant survives


def test_setup_groups_command_recreates_and_resets(capsys):
    Group.objects.filter(name=DISTRICT_STAFF).delete()
    group = Group.objects.get(name=SOCIAL_WORKER)
    group.permissions.add(Permission.objects.get(codename="view_personal_data"))
    call_command("setup_groups", "--reset")
    assert perms_of(DISTRICT_STAFF) == expected_codenames(DISTRICT_STAFF)
    assert perms_of(SOCIAL_WORKER) == expected_codenames(SOCIAL_WORKER)
    assert "街道社工" in capsys.readouterr().out
