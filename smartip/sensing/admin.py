from django.contrib import admin

from smartip.sensing.models import HourlyAggregate, Observation, Sensor


@admin.register(Sensor)
class SensorAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "city",
        "model",
        "exposure",
        "is_reference",
        "firmware_id",
        "last_seen_at",
        "is_active",
    )
    list_filter = ("city", "model", "exposure", "is_reference", "is_active")
    search_fields = ("name", "firmware_id")
    raw_id_fields = ("owner", "api_key", "neighbourhood")
    readonly_fields = ("key_hash", "public_lat", "public_lon", "h3", "last_seen_at", "dirty_since")


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = ("sensor", "quantity", "time", "value", "qc_flags")
    list_filter = ("quantity",)
    raw_id_fields = ("sensor",)
    show_full_result_count = False


@admin.register(HourlyAggregate)
class HourlyAggregateAdmin(admin.ModelAdmin):
    list_display = ("sensor", "quantity", "hour", "mean", "n", "n_total", "flags")
    list_filter = ("quantity",)
    raw_id_fields = ("sensor",)
    show_full_result_count = False
