from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from smartip.accounts.models import ApiKey, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    fieldsets = (*BaseUserAdmin.fieldsets, ("SMARTiP", {"fields": ("display_name", "language", "home_city")}))


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "kind", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "key_hash"]
