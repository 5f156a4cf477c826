"""Process managers create a process and edit its settings and budgets (plain POST forms; htmx optional)."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smartip.budgeting import services
from smartip.budgeting.forms import AreaForm, ProcessForm
from smartip.budgeting.models import BudgetArea, Process
from smartip.budgeting.process_admin import FROZEN_FIELDS, voting_has_opened
from smartip.budgeting.views.common import _form_error, _process_url, _render, city_districts
from smartip.budgeting.views.staff import _manage_response, _rule_choices, _staff_process
from smartip.core.errors import DomainError


def _process_form(process: Process, data: Any = None, *, new: bool) -> ProcessForm:
    initial = None
    if not new:
        initial = {name: getattr(process, name) for name in ProcessForm.base_fields if name != "budget"}
        initial["district"] = process.district_id
    return ProcessForm(
        data,
        initial=initial,
        rules=_rule_choices(),
        districts=city_districts(process.city),
        new=new,
        frozen=not new and voting_has_opened(process),
    )


def _form_page(
    request: HttpRequest, process: Process, form: ProcessForm, *, new: bool, status: int = 200
) -> HttpResponse:
    ctx = {"process": process, "form": form, "new": new, "frozen_fields": FROZEN_FIELDS}
    return _render(request, "budgeting/process_form.html", ctx, status=status)


@login_required
def process_new(request: HttpRequest) -> HttpResponse:
    """A new process of the visitor's city, in the draft phase."""
    city = getattr(request, "city", None)
    if city is None:
        raise Http404(_("No city is set up yet."))
    draft = Process(city=city)
    if not services.can_manage(request.user, draft):
        raise PermissionDenied(_("Only this city's process managers may do this."))
    if request.method != "POST":
        return _form_page(request, draft, _process_form(draft, new=True), new=True)
    form = _process_form(draft, request.POST, new=True)
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused process leaves nothing half-written
                process = services.create_process(
                    city=city,
                    by=request.user,
                    budget=form.cleaned_data["budget"],
                    **form.settings(),
                )
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            messages.success(
                request,
                _(
                    "“%(title)s” is created and in preparation (not public yet). Check the budgets, then open "
                    "proposals with the phase control."
                )
                % {"title": process.title},
            )
            return redirect(_process_url(process, "manage"))
    return _form_page(request, draft, form, new=True, status=status)


@login_required
def process_edit(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _staff_process(request, city, slug)
    if request.method != "POST":
        return _form_page(request, process, _process_form(process, new=False), new=False)
    form = _process_form(process, request.POST, new=False)
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                services.update_process(process=process, by=request.user, **form.settings())
        except DomainError as exc:
            process.refresh_from_db()  # the form shows what is stored, not the refused values
            status = _form_error(form, exc)
        else:
            messages.success(request, _("The process settings are saved."))
            return redirect(_process_url(process, "manage"))
    return _form_page(request, process, form, new=False, status=status)


def _area(process: Process, pk: int) -> BudgetArea:
    area = process.areas.filter(pk=pk).first()
    if area is None:
        raise Http404(_("No such budget."))
    return area


def _area_done(request: HttpRequest, process: Process, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect(_process_url(process, "manage") + "#areas")


@login_required
@require_POST
def area_add(request: HttpRequest, city: str, slug: str) -> HttpResponse:
    process = _staff_process(request, city, slug)
    form = AreaForm(request.POST, prefix="area", districts=city_districts(process.city))
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                area = services.add_area(process=process, by=request.user, **form.values())
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            return _area_done(request, process, _("The budget “%(name)s” is added.") % {"name": area.name})
    return _manage_response(request, process, status, area_new=form)


@login_required
@require_POST
def area_edit(request: HttpRequest, city: str, slug: str, pk: int) -> HttpResponse:
    process = _staff_process(request, city, slug)
    area = _area(process, pk)
    form = AreaForm(request.POST, prefix=f"a{pk}", districts=city_districts(process.city))
    status = 400
    if form.is_valid():
        try:
            with transaction.atomic():  # a refused change leaves nothing half-written
                services.update_area(area=area, by=request.user, **form.values())
        except DomainError as exc:
            status = _form_error(form, exc)
        else:
            return _area_done(request, process, _("The budget “%(name)s” is saved.") % {"name": area.name})
    return _manage_response(request, process, status, **{f"area_{pk}": form})


@login_required
@require_POST
def area_remove(request: HttpRequest, city: str, slug: str, pk: int) -> HttpResponse:
    process = _staff_process(request, city, slug)
    area = _area(process, pk)
    try:
        with transaction.atomic():  # a refused change leaves nothing half-written
            services.remove_area(area=area, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _manage_response(request, process, exc.status)
    return _area_done(request, process, _("The budget “%(name)s” is removed.") % {"name": area.name})
