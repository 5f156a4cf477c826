"""OGC SensorThings API 1.1 (Part 1: Sensing) at ``/sensorthings/v1.1``, mapped onto the sensing tables.

Mapping
-------
* **Thing** = our :class:`~smartip.sensing.models.Sensor` (same id): ``name`` is the sensor's name;
  ``description`` and extra ``properties`` live in :class:`~smartip.sensing.sta_models.StaThing`; the output
  ``properties`` also carry ``city``, ``model`` and ``exposure``. Only public sensors (active, outdoor) are read.
  Creating a Thing registers a sensor (``services.register_sensor_as``: the writer needs a citizen, analyst or
  admin role in the city); the city is ``properties.city`` or the one holding the Location; the device model is
  ``properties.model`` or the name of a Datastream's Sensor (``SDS011`` …).
* **Location** = :class:`StaLocation` (GeoJSON as given). Linking it to a Thing moves the sensor there (the
  first Point; it must lie in the sensor's city) and writes a **HistoricalLocation**. A home-hosted Thing's
  Location is *shown* at the rounded public position, never exactly, as on our maps.
* **Sensor** (the instrument) = :class:`StaSensor`; **ObservedProperty** = :class:`StaObservedProperty` with
  the quantity code it stands for (``properties.quantity``, else matched from its name/definition: ``pm25``,
  ``PM2.5`` …; an unknown phenomenon is refused, since observations are stored per quantity).
* **Datastream** = :class:`StaDatastream` = (Thing, quantity), one per Thing and quantity. Its unit must be the
  unit the quantity is stored in (no conversion; common spellings such as ``µg/m³`` accepted).
* **Observation** = a row of the narrow :class:`~smartip.sensing.models.Observation` table: ``phenomenonTime``
  = ``time`` (instants only), ``resultTime`` = the same instant (not stored separately), ``result`` = ``value``
  (numbers only), ``resultQuality`` = ``{"qcFlags": qc_flags}``. Writes go through ``sensing.ingest``
  (plausibility, QC flags, idempotency: a repeated reading returns the stored one's id).
* **FeatureOfInterest** = :class:`StaFeatureOfInterest`, one per Thing (observations carry no feature
  column); made from the Thing's public position when an Observation arrives without one.

Protocol
--------
Service root with ``serverSettings.conformance``; GET of collections, entities, navigation
(``Things(1)/Datastreams``, ``Observations(5)/Datastream``) and single properties (``Things(1)/name``);
``$filter`` (see :mod:`.filter`), ``$expand`` (nested, with its own options), ``$select``, ``$orderby``,
``$top`` (default 100, max 10,000), ``$skip``, ``$count``, absolute ``@iot.nextLink``; ``$resultFormat=
dataArray`` on Observations. POST (201 + ``Location`` header), deep insert and links by ``@iot.id``; PATCH
(merges), PUT (replaces: left-out properties get their defaults, see :mod:`.modify`), JSON-Patch
(``application/json-patch+json``); DELETE; POST ``/CreateObservations``.
Errors: ``{"code": <status>, "type": "error", "message": …}``.

Authentication: reading is public. Writing needs an API key in ``X-API-Key``, or HTTP Basic with the key as the
password (any user name) — what ``frost_sta_client.AuthHandler`` sends —, or a session with a CSRF token.
"""
