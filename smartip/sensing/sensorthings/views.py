"""The HTTP edge of the SensorThings API: route a resource path, check who writes, map errors to STA's format."""

import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from smartip.core.errors import DomainError, Forbidden, Invalid, NotFound, Unauthorized
from smartip.sensing.sensorthings import create, modify
from smartip.sensing.sensorthings.access import Actor, actor_of
from smartip.sensing.sensorthings.bulk import create_observations
from smartip.sensing.sensorthings.entities import BY_NAME, ENTITY_TYPES, EntityType
from smartip.sensing.sensorthings.jsonpatch import apply_patch
from smartip.sensing.sensorthings.options import parse_options
from smartip.sensing.sensorthings.paths import Segment, parse_path
from smartip.sensing.sensorthings.publish import publish_pending
from smartip.sensing.sensorthings.render import Context, collection, entity, self_link

REQ = "http://www.opengis.net/spec/iot_sensing/1.1/req/"
CONFORMANCE = [
    REQ + "datamodel",
    REQ + "resource-path/resource-path-to-entities",
    REQ + "request-data",
    REQ + "create-update-delete",
    REQ + "data-array/data-array",
]


@dataclass
class Target:
    etype: EntityType
    qs: Any
    obj: Any = None
    parent: tuple[EntityType, Any] | None = None
    prop: str | None = None
    suffix: str | None = None  # "$ref" (links only) or "$value" (a property's raw value)


def context(request: HttpRequest) -> Context:
    return Context(request.build_absolute_uri(reverse("sensorthings:root")).rstrip("/"))


def error(status: int, message: str) -> JsonResponse:
    if transaction.get_connection().in_atomic_block:
        transaction.set_rollback(True)  # ATOMIC_REQUESTS: a refused request leaves nothing written
    return JsonResponse({"code": status, "type": "error", "message": message}, status=status)


def root(request: HttpRequest) -> HttpResponse:
    ctx = context(request)
    return JsonResponse(
        {
            "value": [{"name": e.plural, "url": f"{ctx.base}/{e.plural}"} for e in ENTITY_TYPES.values()],
            "serverSettings": {"conformance": CONFORMANCE},
        }
    )


@csrf_exempt
def resource(request: HttpRequest, path: str) -> HttpResponse:
    try:
        return dispatch(request, path)
    except DomainError as exc:
        return error(exc.status, exc.message)
    except IntegrityError as exc:
        return error(409, f"conflict with stored data ({exc})")


def dispatch(request: HttpRequest, path: str) -> HttpResponse:
    ctx = context(request)
    if request.method == "GET":
        params = {k: request.GET[k] for k in request.GET}
        opts = parse_options(params, top_level=True)
        publish_pending()
        target = resolve(path)
        if target.prop is not None:
            value = target.etype.render(target.obj)[target.prop]
            if target.suffix == "$value":
                raw = value if isinstance(value, str) else json.dumps(value)
                return HttpResponse(raw, content_type="text/plain; charset=utf-8")
            return JsonResponse({target.prop: value})
        if target.suffix == "$ref":
            opts.select, opts.expand = ("@iot.selfLink",), {}
        if target.obj is not None:
            return JsonResponse(entity(ctx, target.etype, target.obj, opts))
        url = request.build_absolute_uri(request.path)
        return JsonResponse(collection(ctx, target.etype, target.qs, opts, url, params))
    if request.method not in ("POST", "PATCH", "PUT", "DELETE"):
        response = error(405, f"method {request.method} is not supported")
        response["Allow"] = "GET, POST, PATCH, PUT, DELETE"
        return response
    actor = writer(request)
    if request.method == "POST" and path.strip("/") == "CreateObservations":
        links = [
            self_link(ctx, BY_NAME["Observation"], pk) for pk in create_observations(body_of(request), actor)
        ]
        return JsonResponse(links, safe=False, status=201)
    target = resolve(path)
    if target.prop is not None or target.suffix is not None:
        raise Invalid("path: write to the entity, not to one of its properties or links", field="path")
    if request.method == "POST":
        return post(ctx, target, body_of(request), actor)
    if target.obj is None:
        raise Invalid(f"path: {request.method} needs one entity, e.g. {target.etype.plural}(1)", field="path")
    if request.method == "DELETE":
        modify.delete(target.etype.name, target.obj, actor)
        return HttpResponse(status=200)
    body = body_of(request)
    json_patch = request.content_type == "application/json-patch+json"
    if json_patch:
        body = apply_patch(entity(ctx, target.etype, target.obj, parse_options({})), body)
    replace = request.method == "PUT" and not json_patch  # PUT replaces the entity, PATCH merges
    modify.update(target.etype.name, target.obj, body, actor, replace=replace)
    return HttpResponse(status=200)


def writer(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    if actor is None:
        raise Unauthorized("writing needs an API key (X-API-Key, or HTTP Basic with the key as password)")
    if actor.raw_key is None:  # a browser session: the same CSRF protection as our forms
        reason = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(request, lambda r: None, (), {})
        if reason is not None:
            raise Forbidden("CSRF check failed (send X-CSRFToken, or use an API key)")
    return actor


def body_of(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"body: not JSON ({exc})", field="body") from None


def post(ctx: Context, target: Target, body: Any, actor: Actor) -> HttpResponse:
    if target.obj is not None:
        raise Invalid(f"path: POST to a collection, e.g. {target.etype.plural}", field="path")
    if not isinstance(body, dict):
        raise Invalid("body: a JSON object is expected", field="body")
    if target.parent is not None:
        parent_type, parent = target.parent
        link = next((n for n, nav in target.etype.navs.items() if nav.target == parent_type.name), None)
        if link is not None:
            ref = {"@iot.id": parent.pk}
            body = {**body, link: [ref] if target.etype.navs[link].many else ref}
    obj: Any = create.CREATORS[target.etype.name](body, actor)
    location = self_link(ctx, target.etype, obj.pk)
    obj = (
        target.etype.base().filter(pk=obj.pk).first() or obj
    )  # an indoor Thing is not public, still answered
    response = JsonResponse(entity(ctx, target.etype, obj, parse_options({})), status=201)
    response["Location"] = location
    return response


def resolve(path: str) -> Target:
    segments = parse_path(path)
    suffix = None
    if len(segments) > 1 and segments[-1].name in ("$ref", "$value") and segments[-1].id is None:
        suffix = segments.pop().name
    target = walk(segments)
    if suffix == "$value" and target.prop is None:
        raise Invalid("path: $value follows a property, e.g. Things(1)/name/$value", field="path")
    if suffix == "$ref" and target.prop is not None:
        raise Invalid("path: $ref follows entities, e.g. Things(1)/Datastreams/$ref", field="path")
    target.suffix = suffix
    return target


def walk(segments: list[Segment]) -> Target:
    first = segments[0]
    etype = ENTITY_TYPES.get(first.name)
    if etype is None:
        raise NotFound(f"no entity set {first.name!r}; sets: {', '.join(ENTITY_TYPES)}")
    target = Target(etype, etype.base())
    if first.id is not None:
        target.obj = one(target.qs, first.id, etype)
    for seg in segments[1:]:
        if target.obj is None or target.prop is not None:
            raise Invalid(f"path: {seg.name} must follow one entity", field="path")
        nav = target.etype.navs.get(seg.name)
        if nav is None:
            if seg.name in target.etype.render(target.obj) and seg.id is None:
                target.prop = seg.name
                continue
            raise NotFound(f"{target.etype.name} has no property or navigation {seg.name!r}")
        related_type = BY_NAME[nav.target]
        target = Target(related_type, nav.related(target.obj), parent=(target.etype, target.obj))
        if not nav.many:
            if seg.id is not None:
                raise Invalid(f"path: {seg.name} is a single entity, no id", field="path")
            target.obj = target.qs.first()
            if target.obj is None:
                raise NotFound(f"no {seg.name}")
        elif seg.id is not None:
            target.obj = one(target.qs, seg.id, related_type)
    return target


def one(qs: Any, pk: int, etype: EntityType) -> Any:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"no {etype.name} with @iot.id {pk}")
    return obj
