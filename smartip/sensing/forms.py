"""Forms of the air pages (labels and help translatable; the service re-checks everything)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from smartip.sensing.models import Exposure, SensorModel

CITIZEN_MODELS = [c for c in SensorModel.choices if c[0] != SensorModel.REFERENCE]


class RegisterSensorForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120, help_text=_("Shown on the map, e.g. “Elm Street garden”.")
    )
    model = forms.ChoiceField(label=_("Sensor model"), choices=CITIZEN_MODELS)
    exposure = forms.ChoiceField(label=_("Where is it?"), choices=Exposure.choices, initial=Exposure.OUTDOOR)
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    height_m = forms.FloatField(
        label=_("Height above ground (m)"), required=False, min_value=0, max_value=200
    )
    firmware_id = forms.CharField(
        label=_("Firmware id"),
        required=False,
        max_length=64,
        help_text=_(
            "Shown on the sensor's own page as “Sensor ID”, e.g. esp8266-12345 (the X-Sensor header)."
        ),
    )


class AlertForm(forms.Form):
    threshold_band = forms.TypedChoiceField(label=_("Tell me when the air reaches"), coerce=int)
    recovery_h = forms.IntegerField(
        label=_("The episode ends after this many hours below"), min_value=1, max_value=72, initial=3
    )

    def __init__(self, *args: object, band_choices: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["threshold_band"].choices = band_choices


class CalibrationForm(forms.Form):
    sensor = forms.TypedChoiceField(label=_("Citizen sensor"), coerce=int)
    reference = forms.TypedChoiceField(label=_("Reference station"), coerce=int)
    pollutant = forms.ChoiceField(
        label=_("Pollutant"), choices=[("pm25", "PM2.5"), ("pm10", "PM10"), ("no2", "NO2"), ("o3", "O3")]
    )
    start = forms.DateField(label=_("From (UTC date)"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        label=_("Until (UTC date, exclusive)"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: object,
        sensors: list[tuple[int, str]],
        references: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sensor"].choices = sensors
        self.fields["reference"].choices = references
