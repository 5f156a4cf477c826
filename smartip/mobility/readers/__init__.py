"""Trace readers (GPX, GeoJSON, CSV, GeoLife PLT, phone JSON batch) and writers (GPX, GeoJSON)."""
