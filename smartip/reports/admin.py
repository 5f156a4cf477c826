"""Admin for civic reports: categories editable; reports readable with their audit trail (never edited here,
so every change goes through the services and is audited)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from smartip.reports.models import AuditEntry, Category, Report, ReportFlag, ReportPhoto, ReportUpdate


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "service_code", "city", "group", "department", "duplicate_radius_m", "is_active"]
    list_filter = ["city", "group", "is_active"]
    search_fields = ["name", "service_code", "keywords"]


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PhotoInline(_ReadOnlyInline):
    model = ReportPhoto
    fields = ["image", "width", "height"]


class UpdateInline(_ReadOnlyInline):
    model = ReportUpdate
    fields = ["created_at", "kind", "is_public", "author", "text"]


class FlagInline(_ReadOnlyInline):
    model = ReportFlag
    fields = ["created_at", "user", "reason", "resolved_at"]


class AuditInline(_ReadOnlyInline):
    model = AuditEntry
    fields = ["created_at", "actor", "action", "changes"]


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["pk", "category", "city", "department", "status", "is_hidden", "flag_count", "created_at"]
    list_filter = ["city", "status", "is_hidden", "department"]
    search_fields = ["description", "address"]
    list_select_related = ["category", "city", "department"]
    inlines = [PhotoInline, UpdateInline, FlagInline, AuditInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
