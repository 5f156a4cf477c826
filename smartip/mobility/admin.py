"""Admin for mobility: networks and traces are visible for support; a trace's fixes and its owner's privacy
zones are personal data, so the admin shows counts and times, never positions."""

from django.contrib import admin

from smartip.mobility.models import StreetNetwork, Trace


@admin.register(StreetNetwork)
class StreetNetworkAdmin(admin.ModelAdmin):
    list_display = ("city", "source_name", "n_segments", "loaded_at")
    list_filter = ("city",)
    readonly_fields = ("sha256", "tiles_config", "n_segments", "loaded_at")


@admin.register(Trace)
class TraceAdmin(admin.ModelAdmin):
    list_display = ("pk", "city", "source_format", "n_fixes", "started_at", "processed_at", "matched_with")
    list_filter = ("city", "source_format")
    raw_id_fields = ("owner",)
    exclude = ("fixes_blob",)
    readonly_fields = (
        "consent_at",
        "consent_purpose",
        "n_fixes",
        "n_dropped_in_zones",
        "started_at",
        "finished_at",
        "processed_at",
        "matched_with",
    )
    show_full_result_count = False
