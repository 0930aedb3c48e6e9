"""The building committee's demand journey in Chromium (issue 16's "Done when"), in Chinese and in
English: an employee on a phone raises a demand with a photo → the street's social worker, on a
1366-px desktop, accepts it in the admin and assigns it to a committee seat → the seat holder (a
party member with a linked account, no admin) starts it, records progress and resolves it in the
portal → the employee confirms and rates it → the admin dashboard's demand figures change.
Screenshots in test-artifacts/ (d01…d12, one set per language), at the size each person uses.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from buildings.models import Enterprise
from committees.models import CommitteeSeat, Demand, DemandCategory
from tests.browser.conftest import ARTIFACTS, PHONE
from tests.browser.test_accessibility import audit
from tests.browser.test_admin_width import overflow
from tests.buildings.factories import EnterpriseFactory
from tests.committees.factories import (
    BuildingCommitteeFactory,
    CommitteeSeatFactory,
    DemandCategoryFactory,
    DemandFactory,
)
from tests.members.factories import PASSWORD, PartyMemberFactory, SocialWorkerFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 900}

#: What each person reads, in each language.
WORDS = {
    "zh-hans": {
        "lang": "zh-Hans",
        "raise": "提出诉求",
        "submitted": "诉求已提交",
        "state_submitted": "已提交",
        "accepted": "已受理 1 条诉求。",
        "assigned": "已交办 1 条诉求。",
        "started": "已开始办理。",
        "noted": "进展已记录。",
        "resolved": "诉求已办结，等待提出人确认。",
        "confirm": "确认已解决",
        "confirmed": "已确认办结",
        "rate": "提交评价",
        "rated": "感谢您的评价。",
        "state_closed": "已关闭",
        "risk_green": "未办结诉求 0 条，其中超期 0 条",
    },
    "en": {
        "lang": "en",
        "raise": "Raise a demand",
        "submitted": "Your demand was submitted",
        "state_submitted": "Submitted",
        "accepted": "Demands accepted: 1.",
        "assigned": "Demands assigned: 1.",
        "started": "Handling started.",
        "noted": "Progress recorded.",
        "resolved": "Demand resolved; waiting for the submitter's confirmation.",
        "confirm": "Yes, it is solved",
        "confirmed": "Confirmed as resolved.",
        "rate": "Send rating",
        "rated": "Thank you for your rating.",
        "state_closed": "Closed",
        "risk_green": "Open demands: 0, overdue: 0",
    },
}


def new_page(browser, live_server, *, viewport: dict, language: str):
    """A page of its own (one person, one browser context), failing the test on JavaScript errors."""
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.on("console", lambda msg: page.js_errors.append(msg.text) if msg.type == "error" else None)
    return page


def snap(page, name: str) -> None:
    """A full-page screenshot at the size this person uses (phone or laptop)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_load_state("load")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def log_in(page, username: str, *, admin: bool = False) -> None:
    page.goto("/admin/login/" if admin else "/accounts/login/")
    form = page.locator("form").filter(has=page.locator("input[name=password]"))
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("[type=submit]").click()
    page.wait_for_load_state("load")
    assert "/login/" not in page.url, f"{username} could not log in"


def dashboard_figures(page) -> dict[str, str]:
    page.goto("/admin/dashboard/")
    values = page.locator("#demand-cards .card .value").all_inner_texts()
    keys = ("received", "resolved", "rate", "median", "overdue", "rating")
    assert len(values) == len(keys)
    return dict(zip(keys, (v.strip() for v in values), strict=True))


def png_photo() -> bytes:
    """A real (small) photo: a PNG the attachment check opens with Pillow."""
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (200, 60, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_demand_from_phone_to_rated_resolution(browser, live_server, page, language):
    words = WORDS[language]  # each person's saved language (the portal's login sets it)
    tag = "zh" if language == "zh-hans" else "en"
    page.context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])

    enterprise = EnterpriseFactory(name="云帆科技有限公司", building__name="长寿商务大厦")
    building, street = enterprise.building, enterprise.building.street
    committee = BuildingCommitteeFactory(building=building)
    handler_member = PartyMemberFactory(name="李建国", organization__street=street)
    seat = CommitteeSeatFactory(
        committee=committee,
        role=CommitteeSeat.Role.MEMBER,
        member=handler_member,
        person_name="李建国",
        affiliation="大厦物业",
    )
    UserFactory(
        username="lijianguo",
        first_name="建国",
        last_name="李",
        party_member=handler_member,
        language=language,
    )
    category = DemandCategoryFactory(
        name="物业与设施", handling_level=DemandCategory.Level.COMMITTEE, deadline_days=5
    )
    UserFactory(
        username="zhangwei",
        first_name="伟",
        last_name="张",
        enterprise=enterprise,
        building=building,
        language=language,
    )
    SocialWorkerFactory(
        username="shegong", first_name="敏", last_name="周", streets=[street], language=language
    )
    # An earlier demand of the street, still waiting: the figures start above zero.
    DemandFactory(enterprise=EnterpriseFactory(building=building), category=category, title="停车位紧张")

    # The social worker's dashboard before.
    staff = new_page(browser, live_server, viewport=LAPTOP, language=language)
    log_in(staff, "shegong", admin=True)
    before = dashboard_figures(staff)
    assert (before["received"], before["resolved"], before["rating"]) == ("1", "0", "—")

    # 1. The employee raises a demand on the phone, with a photo; the enterprise comes prefilled.
    log_in(page, "zhangwei")
    page.goto("/demands/")
    expect(page.locator("html")).to_have_attribute("lang", words["lang"])
    snap(page, f"d01-{tag}-my-demands-empty")
    page.get_by_role("link", name=words["raise"]).click()
    assert page.locator("select[name=enterprise]").input_value() == str(enterprise.pk)
    page.locator("select[name=category]").select_option(str(category.pk))
    page.locator("input[name=title]").fill("大堂电梯经常停运")
    page.locator("textarea[name=description]").fill("三号电梯本周停运三次，员工上下班要排长队。")
    page.locator("input[name=attachments]").set_input_files(
        files=[{"name": "elevator.png", "mimeType": "image/png", "buffer": png_photo()}]
    )
    snap(page, f"d02-{tag}-raise-demand")
    page.locator("main form [type=submit]").click()
    expect(page.get_by_role("status").filter(has_text=words["submitted"])).to_be_visible()
    demand = Demand.objects.get(title="大堂电梯经常停运")
    assert (demand.enterprise_id, demand.state, demand.attachments.count()) == (enterprise.pk, "submitted", 1)
    expect(page.get_by_role("link", name="elevator.png")).to_be_visible()
    expect(page.locator(".status")).to_have_text(words["state_submitted"])
    snap(page, f"d03-{tag}-demand-submitted")
    problems: list[str] = []  # axe (WCAG 2.1 A/AA) over each page of the journey, phone and desktop
    for url in ("/demands/", "/demands/new/", f"/demands/{demand.pk}/"):
        audit(page, url, problems, language)

    # 2. The social worker, on a laptop, accepts it in the admin and assigns it to the seat.
    staff.goto("/admin/committees/demand/")
    expect(staff.locator("#result_list")).to_contain_text("大堂电梯经常停运")
    snap(staff, f"d04-{tag}-admin-demand-list")
    assert overflow(staff) <= LAPTOP["width"], "the demand list fits a 1366-px laptop"
    expect(staff.locator("#result_list")).to_contain_text("139****")  # the submitter's phone, masked

    def run_action(action: str) -> None:
        staff.locator(f"input[name=_selected_action][value='{demand.pk}']").check()
        staff.locator("select[name=action]").select_option(action)
        staff.locator("button[name=index]").click()

    run_action("accept_demands")
    expect(staff.locator(".messagelist .success")).to_have_text(words["accepted"])
    run_action("assign_to_seat")
    staff.locator("select[name=seat]").select_option(str(seat.pk))
    staff.locator("textarea[name=note]").fill("请物业核查三号电梯的维保记录。")
    snap(staff, f"d05-{tag}-admin-assign-to-seat")
    staff.locator("form input[type=submit]").click()
    expect(staff.locator(".messagelist .success")).to_have_text(words["assigned"])
    demand.refresh_from_db()
    assert (demand.state, demand.handler_seat_id) == ("assigned", seat.pk)
    staff.goto(f"/admin/committees/demand/{demand.pk}/change/")
    expect(staff.locator("body")).to_contain_text("请物业核查三号电梯的维保记录。")
    snap(staff, f"d06-{tag}-admin-demand-page")
    for url in ("/admin/committees/demand/", f"/admin/committees/demand/{demand.pk}/change/"):
        audit(staff, url, problems, language)
    staff.set_viewport_size(LAPTOP)

    # 3. The seat holder (no admin) handles it in the portal, on the phone.
    handler = new_page(browser, live_server, viewport=PHONE, language=language)
    log_in(handler, "lijianguo")
    handler.goto("/demands/")
    handler.get_by_role("link", name="大堂电梯经常停运").click()
    audit(handler, f"/demands/{demand.pk}/", problems, language)
    snap(handler, f"d07-{tag}-handler-demand")
    handler.locator("#handler-actions form[action$='/start/'] [type=submit]").click()
    expect(handler.get_by_role("status").filter(has_text=words["started"])).to_be_visible()
    handler.locator("textarea[name=note]").fill("已联系电梯维保公司，周三上门更换控制板。")
    handler.locator("#handler-actions form[action$='/note/'] [type=submit]").click()
    expect(handler.get_by_role("status").filter(has_text=words["noted"])).to_be_visible()
    handler.locator("textarea[name=resolution]").fill("控制板已更换，电梯连续运行一周无故障。")
    snap(handler, f"d08-{tag}-handler-resolving")
    handler.locator("#handler-actions form[action$='/resolve/'] [type=submit]").click()
    expect(handler.get_by_role("status").filter(has_text=words["resolved"])).to_be_visible()
    expect(handler.locator("#handler-actions")).to_have_count(0)
    demand.refresh_from_db()
    assert (demand.state, demand.resolution) == ("resolved", "控制板已更换，电梯连续运行一周无故障。")

    # 4. The employee sees every step, confirms and rates.
    page.goto(f"/demands/{demand.pk}/")
    timeline = page.locator("ol.timeline li")
    expect(timeline).to_have_count(6)  # submitted, accepted, assigned, in progress, a note, resolved
    expect(page.locator("ol.timeline")).to_contain_text("已联系电梯维保公司")
    snap(page, f"d09-{tag}-employee-confirms")
    page.get_by_role("button", name=words["confirm"]).click()
    expect(page.get_by_role("status").filter(has_text=words["confirmed"])).to_be_visible()
    page.locator("input[name=rating][value='4']").check()
    page.locator("input[name=comment]").fill("处理及时，下次希望提前通知停运时间。")
    snap(page, f"d10-{tag}-employee-rates")
    page.get_by_role("button", name=words["rate"]).click()
    expect(page.get_by_role("status").filter(has_text=words["rated"])).to_be_visible()
    expect(page.locator(".status").first).to_have_text(words["state_closed"])
    expect(page.locator("main")).to_contain_text("4/5")
    snap(page, f"d11-{tag}-demand-closed-and-rated")
    audit(page, f"/demands/{demand.pk}/", problems, language)
    demand.refresh_from_db()
    assert (demand.state, demand.rating, demand.rating_comment) == (
        "closed",
        4,
        "处理及时，下次希望提前通知停运时间。",
    )
    assert Enterprise.objects.get(pk=enterprise.pk).name == "云帆科技有限公司"

    # 5. The dashboard's figures moved: one more received, one resolved, a rating.
    after = dashboard_figures(staff)
    snap(staff, f"d12-{tag}-admin-dashboard")
    assert (after["received"], after["resolved"], after["rate"], after["rating"]) == (
        "2",
        "1",
        "50.0%",
        "4.0",
    )
    assert after != before
    # The enterprise's admin page: its risk colour (blue while open, green now) and why.
    staff.goto(f"/admin/buildings/enterprise/{enterprise.pk}/change/")
    expect(staff.locator(".field-risk_detail")).to_contain_text(words["risk_green"])
    snap(staff, f"d13-{tag}-admin-enterprise-risk")
    assert not problems, "\n".join(problems)

    for other in (staff, handler):
        errors = other.js_errors
        other.context.close()
        assert not errors, f"JavaScript errors or CSP violations in the browser: {errors}"
