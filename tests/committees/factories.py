"""Factories for building committees and their seats."""

import datetime

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from committees.models import (
    Agreement,
    AgreementCommitment,
    BuildingCommittee,
    CommitteeMeeting,
    CommitteeSeat,
    Demand,
    DemandAttachment,
    DemandCategory,
    DemandStep,
    EnterpriseContact,
    EnterpriseRiskOverride,
    MeetingResolution,
    Visit,
)
from tests.buildings.factories import BuildingFactory, EnterpriseFactory, PartnerFactory
from tests.members.factories import UserFactory

#: the smallest valid PDF header the attachment check accepts
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class BuildingCommitteeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BuildingCommittee

    building = factory.SubFactory(BuildingFactory)
    founded_on = datetime.date(2020, 6, 1)
    term_starts_on = datetime.date(2024, 6, 1)
    term_ends_on = datetime.date(2027, 5, 31)


class CommitteeSeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitteeSeat

    committee = factory.SubFactory(BuildingCommitteeFactory)
    role = CommitteeSeat.Role.MEMBER
    person_name = factory.Sequence(lambda n: f"委员{n}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    affiliation = "测试物业"
    starts_on = datetime.date(2024, 6, 1)


class DemandCategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandCategory
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"诉求类别{n}")
    handling_level = DemandCategory.Level.COMMITTEE
    deadline_days = 5


class EnterpriseContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnterpriseContact

    enterprise = factory.SubFactory(EnterpriseFactory)
    user = factory.SubFactory(
        UserFactory,
        enterprise=factory.SelfAttribute("..enterprise"),
        building=factory.SelfAttribute("..enterprise.building"),
    )


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    enterprise = factory.SubFactory(EnterpriseFactory)
    visited_on = datetime.date(2026, 11, 2)
    visited_by = factory.SubFactory(UserFactory, is_staff=True)
    met_with = "人事经理"
    topics = "了解用工与政策需求"


class DemandFactory(factory.django.DjangoModelFactory):
    """A submitted demand (the write functions move it on; tests of states use them)."""

    class Meta:
        model = Demand

    enterprise = factory.SubFactory(EnterpriseFactory)
    building = factory.SelfAttribute("enterprise.building")
    submitter = factory.SubFactory(
        UserFactory,
        enterprise=factory.SelfAttribute("..enterprise"),
        building=factory.SelfAttribute("..enterprise.building"),
    )
    category = factory.SubFactory(DemandCategoryFactory)
    title = factory.Sequence(lambda n: f"诉求{n}")
    description = "电梯经常故障，影响员工上下班。"
    submitted_at = factory.LazyFunction(timezone.now)
    deadline = datetime.date(2026, 12, 14)


class DemandStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandStep

    demand = factory.SubFactory(DemandFactory)
    actor = factory.SelfAttribute("demand.submitter")
    at = factory.LazyFunction(timezone.now)
    to_state = Demand.State.SUBMITTED
    note = "提交"


class DemandAttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DemandAttachment

    demand = factory.SubFactory(DemandFactory)
    file = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="scan.pdf"))
    original_name = "scan.pdf"
    content_type = "application/pdf"
    size = len(PDF_BYTES)
    uploaded_by = factory.SelfAttribute("demand.submitter")


class CommitteeMeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommitteeMeeting

    committee = factory.SubFactory(BuildingCommitteeFactory)
    held_on = datetime.date(2026, 11, 10)
    topic = factory.Sequence(lambda n: f"第{n}次楼事会")
    minutes = "研究电梯维修与停车问题。"


class MeetingResolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MeetingResolution

    meeting = factory.SubFactory(CommitteeMeetingFactory)
    text = "物业一周内更换3号电梯部件"
    owner = factory.SubFactory(CommitteeSeatFactory, committee=factory.SelfAttribute("..meeting.committee"))
    due_on = datetime.date(2026, 11, 17)


class AgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    partner = factory.SubFactory(PartnerFactory)
    title = factory.Sequence(lambda n: f"“1℃”共建协议{n}")
    starts_on = datetime.date(2026, 1, 1)
    ends_on = datetime.date(2027, 12, 31)
    status = Agreement.Status.ACTIVE

    @factory.post_generation
    def committees(self, create, extracted, **kwargs):
        if create and extracted:
            self.committees.set(extracted)


class AgreementCommitmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementCommitment

    agreement = factory.SubFactory(AgreementFactory)
    side = AgreementCommitment.Side.COMMUNITY
    text = "社区食堂向外卖骑手开放"


class EnterpriseRiskOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnterpriseRiskOverride

    enterprise = factory.SubFactory(EnterpriseFactory)
    colour = EnterpriseRiskOverride.Colour.RED
    reason = "企业拟迁出，社工已约谈。"
    set_by = factory.SubFactory(UserFactory, is_staff=True)
    set_at = factory.LazyFunction(timezone.now)
