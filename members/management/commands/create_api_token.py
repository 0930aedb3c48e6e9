"""``python manage.py create_api_token USERNAME``: issue an API key; the key is the last line printed."""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from members.models import User
from members.tokens import DEFAULT_LIFETIME, MAX_LIFETIME, TokenError, issue_token


class Command(BaseCommand):
    help = "为用户签发 API 密钥（只显示一次，输出的最后一行就是密钥）。"

    def add_arguments(self, parser):
        parser.add_argument("username", help="密钥所属用户的用户名")
        parser.add_argument("--name", default="", help="用途说明，如“静安区社工部数据对接”")
        lifetime = parser.add_mutually_exclusive_group()
        lifetime.add_argument(
            "--days", type=int, default=None, help=f"有效天数（默认 {DEFAULT_LIFETIME.days} 天，最长 3 年）"
        )
        lifetime.add_argument("--expires", default=None, help="到期日期 YYYY-MM-DD（当天零点，上海时间）")

    def handle(self, *args, username: str, name: str, days: int | None, expires: str | None, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"没有用户名为“{username}”的用户。") from None
        now = timezone.now()
        expires_at = None
        if days is not None:
            if days < 1:
                raise CommandError("--days 必须是正整数。")
            if days > MAX_LIFETIME.days:
                # Checked here, not left to issue_token(): a huge number would overflow the date.
                raise CommandError(f"--days 最多为 {MAX_LIFETIME.days} 天（密钥有效期最长为三年）。")
            expires_at = now + datetime.timedelta(days=days)
        elif expires:
            try:
                day = datetime.date.fromisoformat(expires)
            except ValueError:
                raise CommandError("--expires 应为 YYYY-MM-DD 格式的日期。") from None
            expires_at = datetime.datetime.combine(
                day, datetime.time.min, tzinfo=timezone.get_current_timezone()
            )
        try:
            token, key = issue_token(
                user=user, name=name or f"{username} 命令行签发", expires_at=expires_at, now=now
            )
        except TokenError as exc:
            raise CommandError(exc.message) from exc
        if user.is_superuser:
            scope = "全市"
        elif user.district_id:
            scope = str(user.district)
        else:
            scope = "、".join(s.name for s in user.streets.all()) or "无（只能看到公开活动和本人的预约）"
        self.stdout.write(f"已为 {user.username} 签发 API 密钥“{token.name}”（前缀 {token.prefix}）。")
        self.stdout.write(f"管辖范围：{scope}；到期：{timezone.localtime(token.expires_at):%Y-%m-%d %H:%M}。")
        self.stdout.write("密钥只显示这一次，请立即妥善保存；使用方式：Authorization: Token <密钥>")
        self.stdout.write(key)
