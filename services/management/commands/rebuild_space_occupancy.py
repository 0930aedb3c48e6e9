"""Repair: recompute the spaces' occupancy from the events and approved reservations.

The occupancy table (``SpaceOccupancy``, the exclusion constraint's home) is kept by
triggers; it needs rebuilding only after rows were written with the triggers switched
off (``pgtrigger.ignore``, a restore of one table). Safe beside the running portal:
writers wait for it. Fails, changing nothing, if the data itself has an event and an
approved reservation overlapping in one space.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from services.reservations import rebuild_space_occupancy


class Command(BaseCommand):
    help = "按活动和已批准的场地预约重建空间占用表（仅在绕过触发器写入数据后需要）。"

    def handle(self, *args, **options):
        try:
            rows = rebuild_space_occupancy()
        except IntegrityError as exc:
            raise CommandError(f"有活动与已批准的场地预约在同一空间时间重叠，未作任何修改：{exc}") from exc
        self.stdout.write(f"空间占用已重建：{rows} 条。")
