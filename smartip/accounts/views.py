from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartip.accounts import services
from smartip.accounts.forms import ApiKeyForm, ProfileForm, RegisterForm
from smartip.core.errors import DomainError


def register(request: HttpRequest) -> HttpResponse:
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register(**form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome! Your account is ready."))
            return redirect("portal:home")
    return render(request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Profile saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", _keys_context(request, form=form))


def _keys_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    return {"keys": request.user.api_keys.all(), "key_form": ApiKeyForm(), **extra}  # type: ignore[union-attr]


def _render_keys(request: HttpRequest, ctx: dict[str, object], status: int = 200) -> HttpResponse:
    template = "accounts/_keys.html" if request.headers.get("HX-Request") else "accounts/profile.html"
    if "form" not in ctx:
        ctx["form"] = ProfileForm(instance=request.user)
    return render(request, template, ctx, status=status)


@login_required
@require_POST
def create_key(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    ctx = _keys_context(request)
    if form.is_valid():
        try:
            _key, raw = services.create_api_key(user=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except DomainError as exc:
            form.add_error("name", exc.message)
        else:
            ctx["new_key"] = raw
            return _render_keys(request, ctx)
    ctx["key_form"] = form
    return _render_keys(request, ctx, status=400)


@login_required
@require_POST
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    services.revoke_api_key(user=request.user, key_id=key_id)  # type: ignore[arg-type]
    return _render_keys(request, _keys_context(request))
