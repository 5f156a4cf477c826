"""Citizen sensing: ingest, quality control, calibration, averaging and air-quality indices.

The pure cores (aqi, aqi_tables, averaging, qc, calibration, csvio) import nothing from Django.
"""
