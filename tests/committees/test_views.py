"""The demand pages of the portal: who sees a demand and its files (every role; 404 for others),
raising one with attachments checked from their content, and confirm / reopen / rate."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from committees import demands as d
from committees.models import Demand, DemandAttachment
from tests.buildings.factories import EnterpriseFactory
from tests.committees.factories import PDF_BYTES, DemandAttachmentFactory
from tests.committees.test_demands import NOW, _bring_to, world  # noqa: F401
from tests.members.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

SEES = {
    "submitter": True,
    "contact": True,
    "colleague": False,
    "chief": True,
    "first_secretary": True,
    "seat_member": True,
    "handler": True,
    "social_worker": True,
    "other_worker": False,
    "district_staff": True,
    "superuser": True,
    "stranger": False,
}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _png(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("role", sorted(SEES))
def test_demand_page_and_attachment_only_for_those_who_may_see(world, role):  # noqa: F811
    demand = _bring_to(world, Demand.State.ASSIGNED)
    attachment = DemandAttachmentFactory(demand=demand, uploaded_by=world["users"]["submitter"])
    client = _client(world["users"][role])
    page = client.get(reverse("demands:detail", args=[demand.pk]))
    download = client.get(reverse("demands:attachment", args=[attachment.pk]))
    if SEES[role]:
        assert page.status_code == 200 and demand.title in page.content.decode()
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF_BYTES
        assert download["Cache-Control"] == "private, no-store"
    else:
        assert page.status_code == 404
        assert download.status_code == 404


def test_other_districts_staff_and_anonymous_see_nothing(world, district_b):  # noqa: F811
    demand = _bring_to(world, Demand.State.SUBMITTED)
    outsider = StaffUserFactory(username="b_staff", district=district_b)
    assert _client(outsider).get(reverse("demands:detail", args=[demand.pk])).status_code == 404
    anonymous = Client().get(reverse("demands:detail", args=[demand.pk]))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_attachments_are_not_under_media(world, settings):  # noqa: F811
    attachment = DemandAttachmentFactory(demand=_bring_to(world, Demand.State.SUBMITTED))
    assert attachment.file.path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not attachment.file.path.startswith(str(settings.MEDIA_ROOT or "/nonexistent"))
    with pytest.raises(ValueError):
        attachment.file.url  # noqa: B018


def _post_new(client, world, **files):  # noqa: F811
    data = {
        "enterprise": world["enterprise"].pk,
        "category": world["category"].pk,
        "title": "空调不制冷",
        "description": "12楼空调一周不制冷。",
    }
    if files:
        data["attachments"] = list(files.values())
    return client.post(reverse("demands:new"), data)


def test_raise_a_demand_with_a_photo_and_a_pdf(world):  # noqa: F811
    submitter = world["users"]["submitter"]
    client = _client(submitter)
    form = client.get(reverse("demands:new"))
    assert form.context["form"].fields["enterprise"].initial == world["enterprise"].pk
    response = _post_new(
        client,
        world,
        photo=SimpleUploadedFile("photo.png", _png(), content_type="image/png"),
        scan=SimpleUploadedFile("scan.pdf", PDF_BYTES, content_type="application/pdf"),
    )
    demand = Demand.objects.get(title="空调不制冷")
    assert response.status_code == 302 and response["Location"] == reverse("demands:detail", args=[demand.pk])
    assert demand.submitter == submitter and demand.state == Demand.State.SUBMITTED
    assert sorted(DemandAttachment.objects.filter(demand=demand).values_list("content_type", flat=True)) == [
        "application/pdf",
        "image/png",
    ]


@pytest.mark.parametrize(
    ("name", "content", "browser_type"),
    [
        ("photo.png", b"<html><script>alert(1)</script></html>", "image/png"),  # HTML named .png
        ("doc.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"),
        ("photo.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif"),
        ("big.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024) + b"\n%%EOF\n", "application/pdf"),
    ],
)
def test_wrong_type_or_size_is_a_field_error_and_nothing_is_saved(world, name, content, browser_type):  # noqa: F811
    client = _client(world["users"]["submitter"])
    response = _post_new(client, world, f=SimpleUploadedFile(name, content, content_type=browser_type))
    assert response.status_code == 200
    assert response.context["form"].errors["attachments"]
    assert not Demand.objects.filter(title="空调不制冷").exists()
    assert not DemandAttachment.objects.exists()


def test_an_outsider_cannot_raise_for_another_enterprise(world):  # noqa: F811
    stranger = world["users"]["stranger"]
    stranger.enterprise = EnterpriseFactory()
    stranger.save()
    response = _post_new(_client(stranger), world)
    assert response.status_code == 200 and response.context["form"].errors["enterprise"]
    assert not Demand.objects.exists()


def test_confirm_then_rate_through_the_pages(world):  # noqa: F811
    demand = _bring_to(world, Demand.State.RESOLVED)
    client = _client(world["users"]["submitter"])
    page = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert "确认已解决" in page and "重新打开" in page
    client.post(reverse("demands:action", args=[demand.pk, "confirm"]))
    client.post(reverse("demands:action", args=[demand.pk, "rate"]), {"rating": "4", "comment": "快"})
    demand.refresh_from_db()
    assert (demand.state, demand.rating, demand.rating_comment) == (Demand.State.CLOSED, 4, "快")
    page = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    last_step = page.rsplit('<ol class="timeline">', 1)[1].rsplit("<li>", 1)[1]
    # The rating is its own line on the timeline, named as such (not "进展"), by the raiser's name.
    assert "<strong>评分</strong>" in last_step and "★★★★ 快" in last_step, last_step
    assert world["users"]["submitter"].display_name in last_step


def test_reopen_through_the_page_and_a_refusal_is_a_message(world):  # noqa: F811
    demand = _bring_to(world, Demand.State.RESOLVED, now=timezone.now())
    client = _client(world["users"]["contact"])
    client.post(reverse("demands:action", args=[demand.pk, "reopen"]), {"reason": "还是不行"})
    demand.refresh_from_db()
    assert demand.state == Demand.State.REOPENED
    response = client.post(reverse("demands:action", args=[demand.pk, "confirm"]), follow=True)
    assert "不能确认办结" in response.content.decode()
    assert Demand.objects.get(pk=demand.pk).state == Demand.State.REOPENED


def test_a_committee_member_cannot_confirm_through_the_page(world):  # noqa: F811
    demand = _bring_to(world, Demand.State.RESOLVED)
    _client(world["users"]["chief"]).post(reverse("demands:action", args=[demand.pk, "confirm"]))
    assert Demand.objects.get(pk=demand.pk).state == Demand.State.RESOLVED
    assert d.allowed_actions(world["users"]["chief"], demand) == []


def test_the_handler_starts_notes_and_resolves_through_the_page(world):  # noqa: F811
    """The seat holder has no admin: the demand's page gives them start, a progress note and resolve."""
    demand = _bring_to(world, Demand.State.ASSIGNED)
    client = _client(world["users"]["handler"])
    mine = client.get(reverse("demands:mine")).content.decode()
    assert demand.title in mine  # assigned to their seat: in "my demands" without ?all=1
    page = client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    assert 'id="handler-actions"' in page and "开始办理" in page
    client.post(reverse("demands:action", args=[demand.pk, "start"]))
    client.post(reverse("demands:action", args=[demand.pk, "note"]), {"note": "已联系维保公司"})
    response = client.post(
        reverse("demands:action", args=[demand.pk, "resolve"]), {"resolution": ""}, follow=True
    )
    assert "请填写办理结果。" in response.content.decode()
    assert Demand.objects.get(pk=demand.pk).state == Demand.State.IN_PROGRESS
    client.post(reverse("demands:action", args=[demand.pk, "resolve"]), {"resolution": "控制板已更换"})
    demand.refresh_from_db()
    assert (demand.state, demand.resolution) == (Demand.State.RESOLVED, "控制板已更换")
    steps = list(demand.steps.order_by("at", "id").values_list("to_state", "note", "actor"))
    handler_pk = world["users"]["handler"].pk
    assert steps[-3:] == [
        (Demand.State.IN_PROGRESS, "", handler_pk),
        (Demand.State.IN_PROGRESS, "已联系维保公司", handler_pk),
        (Demand.State.RESOLVED, "控制板已更换", handler_pk),
    ]
    assert (
        'id="handler-actions"' not in client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    )


@pytest.mark.parametrize("role", ["submitter", "contact", "seat_member", "district_staff"])
def test_others_cannot_handle_through_the_page(world, role):  # noqa: F811
    demand = _bring_to(world, Demand.State.ASSIGNED)
    client = _client(world["users"][role])
    assert (
        'id="handler-actions"' not in client.get(reverse("demands:detail", args=[demand.pk])).content.decode()
    )
    for action, data in (("start", {}), ("note", {"note": "x"}), ("resolve", {"resolution": "x"})):
        response = client.post(reverse("demands:action", args=[demand.pk, action]), data, follow=True)
        assert "您无权对该诉求进行此操作。" in response.content.decode()
    demand.refresh_from_db()
    assert (demand.state, demand.steps.count()) == (Demand.State.ASSIGNED, 3)
