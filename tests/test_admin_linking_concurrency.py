"""Two social workers approving two requests for the same member at once: exactly one link."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from members.linking import LinkError, approve_link_request
from members.models import MemberLinkRequest, User
from tests.members.factories import MemberLinkRequestFactory, PartyMemberFactory, SocialWorkerFactory


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_link_the_member_once(street_a):
    member = PartyMemberFactory(organization__street=street_a)
    # Social workers of the street (the group gives them members.change_memberlinkrequest).
    workers = [SocialWorkerFactory(streets=[street_a]) for _ in range(2)]
    requests = [
        MemberLinkRequestFactory(member=member),
        MemberLinkRequestFactory(member=member),
    ]
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def approve(i: int) -> None:
        try:
            barrier.wait()
            approve_link_request(request=requests[i], by=workers[i])
            outcomes[i] = "approved"
        except LinkError as exc:
            outcomes[i] = exc.code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["approved", "member_already_linked"]
    assert User.objects.filter(party_member=member).count() == 1
    statuses = sorted(MemberLinkRequest.objects.values_list("status", flat=True))
    assert statuses == ["approved", "pending"]
