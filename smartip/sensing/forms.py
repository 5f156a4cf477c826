"""Forms of the air pages (labels and help translatable; the service re-checks everything)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from smartip.sensing.models import Exposure, SensorModel

CITIZEN_MODELS = [c for c in SensorModel.choices if c[0] != SensorModel.REFERENCE]
TRUE_VALUES = ("on", "true", "1", "yes")


def _home_hosted(value: str) -> bool:
    return value != "no"


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
    # a missing answer counts as "at a home": the safe side for a host's privacy
    is_home_hosted = forms.TypedChoiceField(
        label=_("Hosted at"),
        choices=[
            ("yes", _("a home: the public map shows a rounded position")),
            ("no", _("not a home (school, office, street): the public map shows the exact position")),
        ],
        widget=forms.RadioSelect,
        initial="yes",
        required=False,
        coerce=_home_hosted,
        empty_value=True,
    )
    is_reference = forms.BooleanField(
        label=_("Reference station"),
        required=False,
        help_text=_("An official monitoring station; citizen sensors are calibrated against it."),
    )

    def __init__(self, *args: object, allow_reference: bool = False, **kwargs: object) -> None:
        """``allow_reference``: the user may register reference stations (services.can_register_reference)."""
        super().__init__(*args, **kwargs)
        self.allow_reference = allow_reference
        if allow_reference:
            self.fields["model"].choices = SensorModel.choices
        else:
            del self.fields["is_reference"]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not self.allow_reference:
            # a posted is_reference goes to the service, which refuses it with its reason (never silently dropped)
            data["is_reference"] = str(self.data.get("is_reference", "")).lower() in TRUE_VALUES
        return data


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
