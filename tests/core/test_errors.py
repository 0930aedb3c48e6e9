"""One base for every broken rule (core/errors.py): a new refusal needs no new mapping code.

A rule written today — a subclass of ``DomainError`` raised by a write function — reaches
the API as 409 ``{code, detail}`` (core/api/errors.py) and the admin as a message on the
list (core/adminkit/scoped.py, ``run_domain_action``), and a refused save as a form error,
without either edge knowing the new class.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from buildings.models import Building
from core.adminkit import ScopedAdmin, is_domain_error
from core.errors import DomainError
from members.linking import LinkError
from members.transfers import TransferError
from services.booking import BookingError
from services.reservations import ReservationError
from tests.buildings.factories import BuildingFactory

pytestmark = pytest.mark.django_db


class MovedOutError(DomainError):
    """A rule no edge has heard of."""


class _Refusing(APIView):
    permission_classes: list = []
    authentication_classes: list = []

    def post(self, request):
        raise MovedOutError("moved_out", "该企业已迁出本楼宇。")


def test_a_new_domain_error_is_a_409_with_code_and_detail_in_the_api():
    response = _Refusing.as_view()(APIRequestFactory().post("/api/v1/x/", {}, format="json"))
    assert response.status_code == 409
    assert response.data == {"code": "moved_out", "detail": "该企业已迁出本楼宇。"}


def test_a_new_domain_error_is_a_message_in_the_admin_and_the_rest_goes_on(superuser):
    first, second = BuildingFactory(name="甲楼"), BuildingFactory(name="乙楼")
    model_admin = ScopedAdmin(Building, admin.site)
    request = RequestFactory().post("/admin/buildings/building/")
    request.user = superuser
    request.session = {}
    request._messages = FallbackStorage(request)
    done = []

    def act(building):
        if building.pk == first.pk:
            raise MovedOutError("moved_out", "该企业已迁出本楼宇。")
        done.append(building.pk)

    model_admin.run_domain_action(
        request,
        Building.objects.filter(pk__in=[first.pk, second.pk]).order_by("pk"),
        act,
        done_message="完成 %(count)d 个",
    )
    texts = [str(m) for m in get_messages(request)]
    assert "“甲楼”：该企业已迁出本楼宇。" in texts and "完成 1 个" in texts
    assert done == [second.pk]


def test_an_exception_that_is_not_a_domain_error_is_not_swallowed(superuser):
    model_admin = ScopedAdmin(Building, admin.site)
    request = RequestFactory().post("/admin/buildings/building/")
    request.user = superuser
    request.session = {}
    request._messages = FallbackStorage(request)
    BuildingFactory()

    def broken(building):
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        model_admin.run_domain_action(request, Building.objects.all(), broken, done_message="%(count)d")


@pytest.mark.parametrize("error_class", [BookingError, ReservationError, TransferError, LinkError])
def test_every_write_modules_refusal_shares_the_base(error_class):
    exc = error_class("some_rule", "说明")
    assert isinstance(exc, DomainError) and is_domain_error(exc)
    assert (exc.code, str(exc)) == ("some_rule", "说明")
