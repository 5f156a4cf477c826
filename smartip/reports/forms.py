"""Page forms for civic reports: they parse and convert input; the services decide what is allowed.

Every form works as a plain POST without JavaScript; htmx only enhances the same forms.
"""

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from smartip.cities.models import City, Department, Neighbourhood
from smartip.reports.models import Category, CloseReason, Status

ATTRIBUTE_PREFIX = "attr"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one `<input type=file multiple>`; each is checked by the service, not here."""

    def __init__(self, *args: Any, max_files: int = 5, **kwargs: Any) -> None:
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > self.max_files:
            raise forms.ValidationError(
                _("At most %(n)d photos, please."), code="too_many", params={"n": self.max_files}
            )
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def grouped_category_choices(categories: Iterable[Category]) -> list[tuple[str, Any]]:
    """Choices for a `<select>` with one `<optgroup>` per category group (categories arrive ordered by group)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for cat in categories:
        groups.setdefault(cat.group or str(_("Other")), []).append((cat.pk, cat.name))
    return [("", _("Choose a category…")), *groups.items()]


def attribute_field_name(category: Category, code: str) -> str:
    return f"{ATTRIBUTE_PREFIX}_{category.pk}_{code}"


def _attribute_field(attr: dict[str, Any]) -> forms.Field | None:
    """One Open311 attribute as a form field (None for informational attributes, variable=false)."""
    if attr.get("variable") is False:
        return None
    datatype = attr.get("datatype", "string")
    label = attr.get("description") or attr.get("code", "")
    common: dict[str, Any] = {
        "label": label,
        "required": False,
        "help_text": escape(attr.get("datatype_description") or ""),
    }
    values = [(str(v["key"]), v.get("name", v["key"])) for v in attr.get("values", [])]
    if datatype == "number":
        return forms.DecimalField(
            **common, widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any"})
        )
    if datatype == "text":
        return forms.CharField(**common, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    if datatype == "datetime":
        return forms.DateTimeField(**common, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    if datatype == "singlevaluelist":
        widget = forms.RadioSelect if len(values) <= 5 else forms.Select
        return forms.ChoiceField(
            **common, choices=[("", "—"), *values] if widget is forms.Select else values, widget=widget
        )
    if datatype == "multivaluelist":
        return forms.MultipleChoiceField(**common, choices=values, widget=forms.CheckboxSelectMultiple)
    return forms.CharField(**common, max_length=300)


def _wire_value(value: Any) -> Any:
    """Attribute values as Open311 sends them: strings, or a list of keys for multivaluelist."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


class CoordinateField(forms.FloatField):
    """Decimal degrees; a decimal comma is accepted too (53,4794), as many languages write it."""

    def to_python(self, value: Any) -> float | None:
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


class ReportForm(forms.Form):
    """The citizen's report. Category attribute fields are added for every category of the city, grouped
    in one fieldset per category; only the chosen category's answers are kept (and JS hides the others)."""

    category = forms.TypedChoiceField(label=_("Category"), coerce=int)
    lat = CoordinateField(
        label=_("Latitude"),
        min_value=-90,
        max_value=90,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("For example 53.4794"),
    )
    lon = CoordinateField(
        label=_("Longitude"),
        min_value=-180,
        max_value=180,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("For example -2.2453"),
    )
    address = forms.CharField(
        label=_("Address or nearby landmark"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        help_text=_("Helps the crew find it. It does not move the pin."),
    )
    description = forms.CharField(
        label=_("What is the problem?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    photos = MultipleFileField(
        label=_("Photos"),
        required=False,
        help_text=_("Up to 5 photos (JPEG, PNG or WebP). Location data in them is removed."),
    )
    is_anonymous = forms.BooleanField(label=_("Don't show my name on the public report"), required=False)

    def __init__(
        self, *args: Any, categories: Sequence[Category], assisted: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.categories = {c.pk: c for c in categories}
        self.fields["category"].choices = grouped_category_choices(categories)
        self.fields["photos"].max_files = settings.REPORT_MAX_PHOTOS  # type: ignore[attr-defined]
        self.attribute_groups: list[tuple[Category, list[str]]] = []
        for cat in categories:
            names = []
            for attr in sorted(cat.attributes or [], key=lambda a: a.get("order", 0)):
                field = _attribute_field(attr)
                if field is not None:
                    name = attribute_field_name(cat, attr["code"])
                    field.open311_required = bool(attr.get("required"))  # type: ignore[attr-defined]
                    self.fields[name] = field
                    names.append(name)
            if names:
                self.attribute_groups.append((cat, names))
        self.assisted = assisted
        if assisted:
            self.fields["on_behalf"] = forms.BooleanField(
                label=_("I am entering this for a citizen (phone call, visit, paper form)"), required=False
            )
            self.fields["contact_name"] = forms.CharField(
                label=_("Citizen's name"), max_length=200, required=False
            )
            self.fields["contact_email"] = forms.EmailField(label=_("Citizen's email"), required=False)
            self.fields["contact_phone"] = forms.CharField(
                label=_("Citizen's phone"), max_length=40, required=False
            )

    @property
    def chosen_category(self) -> Category | None:
        value = self.cleaned_data.get("category") if hasattr(self, "cleaned_data") else None
        if value is None:
            try:
                value = int(self.data.get("category") or self.initial.get("category") or 0)
            except (TypeError, ValueError):
                return None
        return self.categories.get(value)

    def attribute_fields(self) -> list[tuple[Category, list[forms.BoundField]]]:
        return [(cat, [self[name] for name in names]) for cat, names in self.attribute_groups]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        category = self.chosen_category
        data["category_obj"] = category
        data["attributes"] = {}
        if category is not None:
            for attr in category.attributes or []:
                name = attribute_field_name(category, attr.get("code", ""))
                if name not in self.fields:
                    continue
                value = data.get(name)
                if value in (None, "", []):
                    if getattr(self.fields[name], "open311_required", False):
                        self.add_error(name, _("Please answer this question."))
                    continue
                data["attributes"][attr["code"]] = _wire_value(value)
        if data.get("on_behalf") and not (data.get("contact_email") or data.get("contact_phone")):
            self.add_error("contact_email", _("Give the citizen's email or phone so they hear back."))
        return data


class FilterForm(forms.Form):
    """Public list and map filters (GET)."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), ("open_all", _("Open (any stage)")), *Status.choices],
    )
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    neighbourhood = forms.TypedChoiceField(
        label=_("Neighbourhood"), required=False, coerce=int, empty_value=None
    )
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(
        label=_("Text"), required=False, max_length=100, widget=forms.TextInput(attrs={"type": "search"})
    )

    def __init__(
        self,
        *args: Any,
        categories: Sequence[Category],
        neighbourhoods: Sequence[Neighbourhood] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.categories = {c.pk: c for c in categories}
        cat_choices = grouped_category_choices(categories)
        cat_choices[0] = ("", _("Any"))
        self.fields["category"].choices = cat_choices
        self.fields["neighbourhood"].choices = [("", _("Any")), *((n.pk, n.name) for n in neighbourhoods)]
        if not neighbourhoods:
            del self.fields["neighbourhood"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end date is before the start date."))
        return data


class QueueFilterForm(FilterForm):
    """Staff queue filters: adds department, age and flagged, and a sort order."""

    SORTS = {
        "-created_at": _("Newest first"),
        "created_at": _("Oldest first"),
        "-support_count": _("Most supported"),
        "-flag_count": _("Most flagged"),
        "-updated_at": _("Recently updated"),
    }
    department = forms.TypedChoiceField(label=_("Department"), required=False, coerce=int, empty_value=None)
    older_than_days = forms.TypedChoiceField(
        label=_("Waiting longer than"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any age")), (1, _("1 day")), (7, _("1 week")), (30, _("30 days"))],
    )
    flagged = forms.BooleanField(label=_("With open flags only"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=list(SORTS.items()))

    def __init__(self, *args: Any, departments: Sequence[Department] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("Any")), *((d.pk, d.name) for d in departments)]

    def created_before(self) -> Any:
        days = self.cleaned_data.get("older_than_days")
        return timezone.now() - timedelta(days=days) if days else None


# --- staff and citizen actions on one report -------------------------------------------------------------


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=Status.choices)
    close_reason = forms.ChoiceField(
        label=_("Reason for closing"),
        required=False,
        choices=[("", "—"), *CloseReason.choices],
        help_text=_("Needed when closing without fixing."),
    )
    text = forms.CharField(
        label=_("Message to the reporter (public)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, current: str | None = None, **kwargs: Any) -> None:
        """Only the moves forward from `current` are offered (the service enforces the same rule)."""
        super().__init__(*args, **kwargs)
        forward = [Status.OPEN, Status.ACKNOWLEDGED, Status.IN_PROGRESS]
        if current in forward:
            later = forward[forward.index(current) + 1 :] + [Status.FIXED, Status.CLOSED]
            self.fields["status"].choices = [(s.value, s.label) for s in later]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("status") == Status.CLOSED and not data.get("close_reason"):
            self.add_error("close_reason", _("Choose why the report is closed."))
        return data


class UpdateForm(forms.Form):
    text = forms.CharField(label=_("Text"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    visibility = forms.ChoiceField(
        label=_("Who sees it"),
        widget=forms.RadioSelect,
        choices=[
            ("public", _("Public update (the reporter is told)")),
            ("internal", _("Internal note (staff only)")),
        ],
    )

    def __init__(
        self, *args: Any, allow_public: bool = True, allow_internal: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [
            c
            for c in self.fields["visibility"].choices
            if (c[0] == "public" and allow_public) or (c[0] == "internal" and allow_internal)
        ]
        self.fields["visibility"].choices = choices
        if len(choices) == 1:
            self.fields["visibility"].initial = choices[0][0]
            self.fields["visibility"].widget = forms.HiddenInput()


class ReassignForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())

    def __init__(self, *args: Any, city: City, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.filter(city=city)  # type: ignore[attr-defined]


class DuplicateForm(forms.Form):
    original = forms.IntegerField(
        label=_("Duplicate of report number"),
        min_value=1,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )


class ModerateForm(forms.Form):
    visibility = forms.ChoiceField(
        label=_("Visibility"),
        widget=forms.RadioSelect,
        choices=[("show", _("Shown to the public")), ("hide", _("Hidden"))],
    )
    description = forms.CharField(
        label=_("Description (edit to remove personal or abusive text)"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class FlagForm(forms.Form):
    reason = forms.CharField(label=_("What is wrong with this report?"), max_length=300, required=False)


class ReopenForm(forms.Form):
    text = forms.CharField(
        label=_("Why is it not fixed?"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
