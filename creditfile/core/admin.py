"""Administration of people and departments; roles are groups synced from core/roles.py."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from creditfile.core.models import ApiToken, Department, ObjectChange, User

admin.site.site_header = _("客户信用档案管理系统 · 系统管理")
admin.site.site_title = _("CreditFile 管理")


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "parent", "sort_order")
    search_fields = ("name", "code")
    list_select_related = ("parent",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "full_name", "department", "is_active", "last_login")
    list_filter = ("department", "groups", "is_active")
    search_fields = ("username", "full_name", "email", "phone")
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("组织"), {"fields": ("full_name", "department", "phone")}),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (_("组织"), {"fields": ("full_name", "department", "groups")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


@admin.register(ObjectChange)
class ObjectChangeAdmin(admin.ModelAdmin):
    """Read-only: the change log is evidence and is never edited."""

    list_display = (
        "time",
        "user",
        "actor",
        "action",
        "object_repr",
        "field_label",
        "old_value",
        "new_value",
    )
    list_filter = ("action", "content_type")
    search_fields = ("object_repr", "field", "old_value", "new_value")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
