"""Mobility workflows, one module per meaning; every public name is importable from here, so callers write
`from smartip.mobility import services` and `services.upload_trace(...)` whatever module holds it.

- upload: consent, city check, privacy zones before storage, fixes appended to a stored trace
- batches: idempotent phone batches, and recording sessions that extend one trace
- processing: the pipeline and map matching as a queued job, with the trace's processing status
- traces / zones: the owner's traces (export, delete) and privacy zones
- networks: street networks from OpenStreetMap extracts
- planner: aggregates with the publication rule, and their CSV / GeoJSON exports
- imports: bulk import of trace folders (CLI)
"""

from smartip.mobility.services.batches import BatchResult, upload_batch
from smartip.mobility.services.common import H3_RES, MATCH_MODE, min_people
from smartip.mobility.services.imports import IMPORT_SUFFIXES, import_folder
from smartip.mobility.services.networks import load_network
from smartip.mobility.services.planner import (
    AGGREGATE_COLUMNS,
    AGGREGATE_KINDS,
    aggregates_csv,
    aggregates_for,
    aggregates_geojson,
    can_see_aggregates,
    compute_aggregates,
    h3_centre,
)
from smartip.mobility.services.processing import (
    enqueue_processing,
    failure_reason,
    matcher_for,
    process_trace,
    retry_processing,
    run_processing,
)
from smartip.mobility.services.traces import delete_trace, export_trace, get_own_trace, my_traces
from smartip.mobility.services.upload import append_fixes, read_upload, upload_trace
from smartip.mobility.services.zones import create_zone, delete_zone, get_own_zone, update_zone

__all__ = [
    "AGGREGATE_COLUMNS",
    "AGGREGATE_KINDS",
    "H3_RES",
    "IMPORT_SUFFIXES",
    "MATCH_MODE",
    "BatchResult",
    "aggregates_csv",
    "append_fixes",
    "aggregates_for",
    "aggregates_geojson",
    "can_see_aggregates",
    "compute_aggregates",
    "create_zone",
    "delete_trace",
    "delete_zone",
    "enqueue_processing",
    "export_trace",
    "failure_reason",
    "get_own_trace",
    "get_own_zone",
    "h3_centre",
    "import_folder",
    "load_network",
    "matcher_for",
    "min_people",
    "my_traces",
    "process_trace",
    "read_upload",
    "retry_processing",
    "run_processing",
    "update_zone",
    "upload_batch",
    "upload_trace",
]
