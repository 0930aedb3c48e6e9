"""Write side of 双报到: a party member registers with the community partner where they live.

One registration at a time: registering elsewhere ends the current one the same day, in
one transaction under the member's row lock; the ended rows are the history.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from buildings.models import Partner
from core.errors import DomainError

from .models import HomeRegistration, PartyMember


class RegistrationError(DomainError):
    """A rule of 双报到 was broken."""


def register_with_partner(
    *, member: PartyMember, partner: Partner, on: datetime.date | None = None
) -> HomeRegistration:
    """Register ``member`` with ``partner`` from ``on`` (today), ending their current registration."""
    on = on or timezone.localdate()
    with transaction.atomic():
        PartyMember.objects.select_for_update().filter(pk=member.pk).get()
        current = HomeRegistration.objects.filter(member=member, ended_on__isnull=True).first()
        if current is not None:
            if current.partner_id == partner.pk:
                raise RegistrationError("already_registered", _("您已在该社区报到。"))
            if on < current.registered_on:
                raise RegistrationError("before_current", _("报到日期不能早于当前报到日期。"))
            current.ended_on = on
            current.save(update_fields=["ended_on"])
        return HomeRegistration.objects.create(member=member, partner=partner, registered_on=on)


def end_registration(*, member: PartyMember, on: datetime.date | None = None) -> HomeRegistration:
    """End ``member``'s current registration (moving away)."""
    on = on or timezone.localdate()
    with transaction.atomic():
        PartyMember.objects.select_for_update().filter(pk=member.pk).get()
        current = HomeRegistration.objects.filter(member=member, ended_on__isnull=True).first()
        if current is None:
            raise RegistrationError("not_registered", _("您当前没有报到的社区。"))
        current.ended_on = max(on, current.registered_on)
        current.save(update_fields=["ended_on"])
        return current
