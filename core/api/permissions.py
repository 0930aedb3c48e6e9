"""Who may read territorial records (``HasTerritory``) and who may write them
(``ScopedModelWritePermission``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from core.scoping import has_staff_scope


class HasTerritory(permissions.BasePermission):
    """Territorial records are for people with a territory: street, district or the whole city."""

    message = _("此接口仅对街道社工、区级工作人员和市级管理员开放。")

    def has_permission(self, request, view) -> bool:
        return has_staff_scope(request.user)


class ScopedModelWritePermission(permissions.DjangoModelPermissions):
    """Reads: any user with a territory. Writes: also the model's add/change permission.

    Which rows may be written is the view's scoped queryset (others are 404) and
    the serializer's scoped choices (a street outside the territory is refused).
    """

    message = _("您没有修改此类记录的权限。")
    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": [],
        "HEAD": [],
        "OPTIONS": [],
    }

    def has_permission(self, request, view) -> bool:
        if not has_staff_scope(request.user):
            self.message = HasTerritory.message
            return False
        if request.method.lower() not in getattr(view, "http_method_names", ()):
            return True  # answered 405 by the view, whatever the permissions
        if request.method in self.perms_map and not self.perms_map[request.method]:
            # Reads need no model permission: the territory is enough. (DRF's check would
            # build the view's whole queryset, with its annotations, only to learn the model.)
            return True
        return super().has_permission(request, view)
