from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from smartip.accounts.models import User
from smartip.cities.models import City


class RegisterForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    city = forms.ModelChoiceField(label=_("Your city"), queryset=City.objects.active(), required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "email", "language", "home_city"]


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Key name"), max_length=100)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("developer", _("Developer")), ("device", _("Device"))]
    )
