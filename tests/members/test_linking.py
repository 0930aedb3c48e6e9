"""Link requests in the street's hands (members/linking.py, the request admin): what was asked,
whether it matched, and who keeps failing (issue 14, item 5)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from members import accounts
from members.linking import LinkError, approve_link_request, reject_link_request
from members.models import MemberLinkRequest
from tests.buildings.factories import BuildingFactory
from tests.members.factories import PartyMemberFactory, PartyOrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_social_worker_sees_repeated_failures(street_a, street_b, social_worker):
    building = BuildingFactory(street=street_a)
    prober = UserFactory(username="prober", building=building)
    for n in range(4):
        request = accounts.request_member_link(user=prober, name=f"试{n}", id_number=f"3101061991{n:08d}")
        reject_link_request(request=request, by=social_worker, note="未找到档案")
    honest = UserFactory(username="honest", building=building)
    member = PartyMemberFactory(name="李红", organization=PartyOrganizationFactory(street=street_a))
    accounts.request_member_link(user=honest, name="李红", id_number=member.id_number)
    elsewhere = UserFactory(username="elsewhere", building=BuildingFactory(street=street_b))
    accounts.request_member_link(user=elsewhere, name="试", id_number="310106199100000001")

    client = Client()
    client.force_login(social_worker)
    url = reverse("admin:members_memberlinkrequest_changelist")
    listing = client.get(url)
    assert listing.status_code == 200
    rows = {(r.user.username, r.name): r for r in listing.context["cl"].result_list}
    assert ("elsewhere", "试") not in rows  # another street's applicant
    assert rows[("prober", "试3")]._recent_failures == 4 and rows[("honest", "李红")]._recent_failures == 0
    html = listing.content.decode()
    assert "未找到匹配档案" in html and "310***********0003" in html
    assert "3101061991" not in html.replace("310***********", "")  # only the masked number is kept

    repeated = client.get(url, {"failures": "repeated"})
    assert {r.user.username for r in repeated.context["cl"].result_list} == {"prober"}
    unmatched = client.get(url, {"match": "none"})
    assert {r.user.username for r in unmatched.context["cl"].result_list} == {"prober"}
    assert {r.user.username for r in client.get(url, {"match": "found"}).context["cl"].result_list} == {
        "honest"
    }


def test_a_request_without_a_record_can_only_be_rejected(street_a, social_worker):
    applicant = UserFactory(building=BuildingFactory(street=street_a))
    request = accounts.request_member_link(user=applicant, name="张三", id_number="310106199100000001")
    assert request.member is None and request.street == street_a
    with pytest.raises(LinkError) as refused:
        approve_link_request(request=request, by=social_worker)
    assert refused.value.code == "no_match"
    reject_link_request(request=request, by=social_worker, note="档案中没有这个身份证号，请联系党组织")
    request.refresh_from_db()
    assert request.status == MemberLinkRequest.Status.REJECTED


def test_a_record_linked_to_another_account_is_shown_and_refused(street_a, social_worker):
    member = PartyMemberFactory(organization=PartyOrganizationFactory(street=street_a))
    UserFactory(username="holder", party_member=member)
    request = accounts.request_member_link(
        user=UserFactory(building=BuildingFactory(street=street_a)),
        name=member.name,
        id_number=member.id_number,
    )
    client = Client()
    client.force_login(social_worker)
    html = client.get(
        reverse("admin:members_memberlinkrequest_changelist"), {"match": "linked"}
    ).content.decode()
    assert "档案已关联其他账号“holder”" in html
    with pytest.raises(LinkError) as refused:
        approve_link_request(request=request, by=social_worker)
    assert refused.value.code == "member_already_linked"
