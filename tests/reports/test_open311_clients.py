"""Real third-party Open311 clients against a live server (see /work/shared/reference/clients.md).

- `georeport` 0.3.1, unmodified, reads services, a definition, requests and one request in JSON and XML.
- `open311` 1.1 is Python 2 code: it is loaded with an import shim (its implicit relative imports) and given
  a `urlopen` that encodes its str body to bytes (Python 3 refuses str). Its own `post_service_request` then
  builds the request exactly as it always does: api_key and an empty jurisdiction_id in the query string,
  fields form-encoded in the body.
"""

import importlib.util
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from georeport import GeoReport

from smartip.reports.models import Report

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoint(live_server, make_report, users):
    report = make_report("flytipping", description="Sofa at the corner – Köln ä")
    make_report("pothole", description="Second")
    return f"{live_server.url}/open311/v2/", report


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_requests_and_one_request(endpoint, categories, fmt):
    url, report = endpoint
    client = GeoReport(url, jurisdiction="manchester", output_format=fmt)
    services = client.get_service_list()
    assert {s["service_code"] for s in services} == set(categories["manchester"])
    definition = client.get_service_definition("flytipping")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    attributes = attributes if isinstance(attributes, list) else [attributes]
    assert definition["service_code"] == "flytipping" and attributes[0]["code"] == "size"
    requests = client.get_service_requests(status="open", service_code="flytipping,pothole")
    assert len(requests) == 2
    one = client.get_service_request(str(report.pk))
    assert one["service_request_id"] == str(report.pk) and one["description"] == report.description
    assert one["status"] == "open" and float(one["lat"]) == report.lat


def test_georeport_xml_single_request_list_comes_back_as_a_dict(endpoint):
    url, report = endpoint
    client = GeoReport(url, jurisdiction="manchester", output_format="xml")
    single = client.get_service_requests(service_request_id=str(report.pk))
    assert isinstance(single, dict) and single["service_request_id"] == str(report.pk)


def _open311_module(monkeypatch):
    spec = importlib.util.find_spec("open311")
    root = Path(spec.submodule_search_locations[0])
    monkeypatch.syspath_prepend(str(root / "api" / "xml2dict"))
    monkeypatch.syspath_prepend(str(root / "api"))
    for name in ("api", "api.api", "xml2dict", "object_dict"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    def load(name, path):
        module_spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(module_spec)
        monkeypatch.setitem(sys.modules, name, module)
        module_spec.loader.exec_module(module)
        return module

    api = load("api", root / "api" / "api.py")
    monkeypatch.setitem(sys.modules, "api.api", api)
    client = load("open311_py2_client", root / "open311.py")

    def urlopen(url, data=None):
        return urllib.request.urlopen(url, data.encode("utf-8") if isinstance(data, str) else data)

    monkeypatch.setattr(client, "urlopen", urlopen)
    return client


def test_open311_client_post_creates_a_request(endpoint, monkeypatch, api_key, users):
    url, _ = endpoint
    key = api_key(users["citizen"])
    module = _open311_module(monkeypatch)
    client = module.Open311(endpoint=url.rstrip("/"), format="json", jurisdiction="", api_key=key)
    answer = client.post_service_request(
        **{
            "service_code": "flytipping",
            "lat": "53.45",
            "long": "-2.25",
            "description": "Mattress dumped",
            "attribute[size]": "medium",
        }
    )
    assert isinstance(answer, list) and len(answer) == 1
    report = Report.objects.get(pk=int(answer[0]["service_request_id"]))
    assert report.city.slug == "manchester" and report.reporter == users["citizen"]
    assert report.attributes == {"size": "medium"} and report.description == "Mattress dumped"


def test_open311_client_post_with_bad_key_is_refused(endpoint, monkeypatch):
    url, _ = endpoint
    module = _open311_module(monkeypatch)
    client = module.Open311(endpoint=url.rstrip("/"), format="json", jurisdiction="", api_key="sk_wrong")
    before = Report.objects.count()
    with pytest.raises(urllib.error.HTTPError) as info:
        client.post_service_request(service_code="pothole", lat="53.45", long="-2.25", description="x")
    assert info.value.code == 403 and Report.objects.count() == before
