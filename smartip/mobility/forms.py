"""Mobility page forms: plain Django forms (they work without script); the services check the rules."""

from datetime import datetime, time, timedelta, tzinfo

from django import forms
from django.utils.translation import gettext_lazy as _

PURPOSE = _(
    "Improving streets and public transport in this city. The city only ever sees totals from at least "
    "5 different people, with the ends of every trip cut off."
)
DAY_TYPES = (("", _("Any day")), ("weekday", _("Weekdays")), ("weekend", _("Weekends")))
MODES = (
    ("", _("Any mode")),
    ("walk", _("Walking")),
    ("bicycle", _("Cycling")),
    ("bus/tram", _("Bus or tram")),
    ("car", _("Car")),
    ("train", _("Train")),
)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Trace file"),
        help_text=_("GPX, GeoJSON, CSV (time, lat, lon) or GeoLife PLT, up to 20 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".gpx,.geojson,.json,.csv,.plt"}),
    )
    name = forms.CharField(label=_("Name (optional)"), max_length=200, required=False)
    purpose = forms.CharField(
        label=_("What the city may use it for"),
        initial=PURPOSE,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent = forms.BooleanField(
        label=_("I agree that this trace is stored and processed for the purpose above"),
        help_text=_("You can export or delete it at any time."),
        error_messages={"required": _("Tick the box to agree: consent is required to store a trace.")},
    )


class ZoneForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=120, initial=_("Home"))
    lat = forms.FloatField(label=_("Latitude"), help_text=_("For example 53.4808"))
    lon = forms.FloatField(label=_("Longitude"), help_text=_("For example -2.2426"))
    radius_m = forms.FloatField(
        label=_("Radius (metres)"), initial=300, min_value=0, help_text=_("Between 50 and 5000 metres.")
    )


class SegmentFilterForm(forms.Form):
    """Filters over the published segment cells (they never widen what the service publishes)."""

    mode = forms.ChoiceField(label=_("Mode"), choices=MODES, required=False)
    hour = forms.TypedChoiceField(
        label=_("Hour of day"),
        choices=[("", _("Any hour"))] + [(str(h), f"{h:02d}:00–{h:02d}:59") for h in range(24)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    day_type = forms.ChoiceField(label=_("Days"), choices=DAY_TYPES, required=False)
    since = forms.DateField(
        label=_("From (date)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To (date, included)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    SEGMENT_ONLY = ("mode", "hour", "day_type")

    def period(self, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
        """(since, until) as aware datetimes at local midnight; `until` is the day after the chosen end."""
        data = self.cleaned_data if self.is_valid() else {}
        since, until = data.get("since"), data.get("until")
        start = datetime.combine(since, time(0), tzinfo=tz) if since else None
        end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=tz) if until else None
        return start, end

    def keep(self, cell: dict[str, object]) -> bool:
        """Does a published cell pass the filters? (an invalid form keeps everything)"""
        data = self.cleaned_data if self.is_valid() else {}
        for name in self.SEGMENT_ONLY:
            wanted = data.get(name)
            if wanted not in (None, "") and cell.get(name) != wanted:
                return False
        return True
