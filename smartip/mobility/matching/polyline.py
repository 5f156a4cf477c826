"""Google encoded polylines at Valhalla's precision (1e-6 degrees)."""

from __future__ import annotations


def decode_polyline6(encoded: str, precision: int = 6) -> list[list[float]]:
    """Decode an encoded polyline to ``[[lon, lat], ...]`` (note: GeoJSON order, not the encoding's lat, lon)."""
    factor = 10.0**precision
    coords: list[list[float]] = []
    index = lat = lon = 0
    length = len(encoded)
    while index < length:
        deltas = []
        for _ in range(2):
            shift = result = 0
            while True:
                byte = ord(encoded[index]) - 63
                index += 1
                result |= (byte & 0x1F) << shift
                shift += 5
                if byte < 0x20:
                    break
            deltas.append(~(result >> 1) if result & 1 else result >> 1)
        lat += deltas[0]
        lon += deltas[1]
        coords.append([lon / factor, lat / factor])
    return coords


def encode_polyline6(coords: list[list[float]], precision: int = 6) -> str:
    """Encode ``[[lon, lat], ...]`` as a polyline (the inverse of ``decode_polyline6``)."""
    factor = 10.0**precision
    out: list[str] = []
    prev_lat = prev_lon = 0
    for lon, lat in coords:
        ilat, ilon = round(lat * factor), round(lon * factor)
        for delta in (ilat - prev_lat, ilon - prev_lon):
            value = ~(delta << 1) if delta < 0 else delta << 1
            while value >= 0x20:
                out.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            out.append(chr(value + 63))
        prev_lat, prev_lon = ilat, ilon
    return "".join(out)
