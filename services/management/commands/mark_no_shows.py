"""``manage.py mark_no_shows``: confirmed bookings of ended events become no-shows."""

from django.core.management.base import BaseCommand

from services.booking import mark_no_shows


class Command(BaseCommand):
    help = "把已结束活动中未签到的已确认预约标记为“未到场”。可重复运行。"

    def handle(self, *args, **options):
        marked = mark_no_shows()
        self.stdout.write(self.style.SUCCESS(f"已标记 {marked} 个未到场预约。"))
