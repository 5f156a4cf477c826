from django.contrib import admin

from smartip.cities.models import City, Department, Neighbourhood


@admin.register(City)
class CityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "timezone", "jurisdiction_id", "is_active"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "email"]
    list_filter = ["city"]


@admin.register(Neighbourhood)
class NeighbourhoodAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "code", "population", "deprivation_decile"]
    list_filter = ["city"]
