"""Create (or repair) the staff groups 街道社工 and 区级工作人员 with their permissions."""

from django.core.management.base import BaseCommand

from members.groups import GROUPS, ensure_groups


class Command(BaseCommand):
    help = "创建或修复“街道社工”和“区级工作人员”两个用户组及其权限。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="把两个组的权限重置为默认清单（去掉手工添加的权限）。",
        )

    def handle(self, *args, reset: bool = False, **options):
        ensure_groups(reset=reset)
        for name in GROUPS:
            self.stdout.write(self.style.SUCCESS(f"用户组“{name}”已就绪。"))
