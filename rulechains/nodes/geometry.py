"""Geometry of the geofencing nodes (rulechains/nodes/geo.py), as ThingsBoard's GeoUtil computes it:
spatial4j's haversine distance on its mean Earth radius, and JTS polygons (x = latitude, y =
longitude, no wrapping at the antimeridian; edges and vertices are outside)."""

import json
import math
import re
from itertools import pairwise

__all__ = ["EARTH_MEAN_RADIUS_KM", "RANGE_UNITS", "distance", "parse_polygons", "contains", "java_double"]


#: spatial4j's DistanceUtils.EARTH_MEAN_RADIUS_KM
EARTH_MEAN_RADIUS_KM = 6371.0087714
#: ThingsBoard's RangeUnit: the unit per kilometre
RANGE_UNITS = {"METER": 1000.0, "KILOMETER": 1.0, "FOOT": 3280.84, "MILE": 0.62137, "NAUTICAL_MILE": 0.539957}
_WORLD = "Rect(minX=-180.0,maxX=180.0,minY=-90.0,maxY=90.0)"
_JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)")


def java_double(value) -> float:
    """A number as Java's Double.parseDouble reads it (Gson's getAsDouble of a JSON value)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int beyond a double (10**400): refused, not an escaping error
            raise ValueError(f"{str(value)[:40]}... is out of the range of a double") from None
    text = json.dumps(value) if isinstance(value, bool) else str(value)
    if not _JAVA_DOUBLE.fullmatch(text.strip()):
        raise ValueError(f'For input string: "{text}"')
    return float(text.strip().rstrip("fFdD").replace("Infinity", "inf"))


def distance(lat1: float, lon1: float, lat2: float, lon2: float, unit: str) -> float:
    """The haversine distance in ``unit``, as ThingsBoard's GeoUtil.distance (spatial4j's GEO
    context refuses a point outside the world, with its text)."""
    for lat, lon in ((lat1, lon1), (lat2, lon2)):
        if not -180.0 <= lon <= 180.0:
            raise ValueError(f"Bad X value {lon} is not in boundary {_WORLD}")
        if not -90.0 <= lat <= 90.0:
            raise ValueError(f"Bad Y value {lat} is not in boundary {_WORLD}")
    if lat1 == lat2 and lon1 == lon2:
        return 0.0
    lat1, lon1, lat2, lon2 = map(math.radians, (lat1, lon1, lat2, lon2))
    h = math.sin((lat1 - lat2) * 0.5) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon1 - lon2) * 0.5) ** 2
    h = min(h, 1.0)
    return 2 * math.atan2(math.sqrt(h), math.sqrt(1 - h)) * EARTH_MEAN_RADIUS_KM * RANGE_UNITS[unit]


def _is_ring(items: list) -> bool:
    """GeoUtil's containsArrayWithPrimitives: every item is an array starting with a value."""
    for item in items:
        if not isinstance(item, list):
            raise ValueError(f"Not a JSON Array: {json.dumps(item)[:80]}")
        if not item or isinstance(item[0], (list, dict)) or item[0] is None:
            return False
    return True


def _rings(items: list, out: list) -> list:
    if _is_ring(items):
        out.append(items)
        return out
    for item in items:
        if not isinstance(item, list):
            raise ValueError(f"Not a JSON Array: {json.dumps(item)[:80]}")
        _rings(item, out)
    return out


def _ring(points: list) -> list:
    coords = []
    for point in points:
        if len(point) < 2:
            raise ValueError(f"A polygon point needs a latitude and a longitude: {json.dumps(point)[:80]}")
        coords.append((java_double(point[0]), java_double(point[1])))
    if len(coords) == 2:  # two corners of a rectangle
        (ax, ay), (cx, cy) = coords
        coords = [(ax, ay), (ax, cy), (cx, cy), (cx, ay)]
    if len(coords) == 1:
        raise ValueError("Invalid number of points in LinearRing (found 1 - must be 0 or >= 4)")
    return coords + coords[:1]


def parse_polygons(text: str) -> tuple:
    """The polygons of ThingsBoard's perimeter text: one ``[[lat, lon], ...]`` or any nesting of
    them (``[[[lat, lon], ...], ...]``), two points being opposite corners of a rectangle. As
    GeoUtil does, a polygon inside another one is a hole in it. Returns (areas, holes)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("Polygon string can't be empty or null!")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(f"The polygons definition is not valid JSON: {text[:80]}") from None
    if not isinstance(value, list):
        raise ValueError(f"Not a JSON Array: {text[:80]}")
    try:
        rings = [_ring(points) for points in _rings(value, [])]
    except RecursionError:
        raise ValueError("The polygons definition is nested too deeply") from None
    holes = [r for r in rings if any(o != r and _ring_within(r, o) for o in rings)]
    return tuple(r for r in rings if r not in holes), tuple(holes)


def _locate(x: float, y: float, ring: list) -> int:
    """1 inside, 0 on the boundary, -1 outside; inside is a non-zero winding number, which is what
    JTS's GeometryFixer makes of a self-intersecting ring."""
    winding = 0
    for (x1, y1), (x2, y2) in pairwise(ring):
        cross = (x2 - x1) * (y - y1) - (x - x1) * (y2 - y1)
        if cross == 0 and min(x1, x2) <= x <= max(x1, x2) and min(y1, y2) <= y <= max(y1, y2):
            return 0
        if y1 <= y < y2 and cross > 0:
            winding += 1
        elif y2 <= y < y1 and cross < 0:
            winding -= 1
    return 1 if winding else -1


def _ring_within(inner: list, outer: list) -> bool:
    """JTS's contains for simple rings: no point of ``inner`` outside ``outer``, one inside."""
    if any(_locate(x, y, outer) < 0 for x, y in inner):
        return False
    middles = [((x1 + x2) / 2, (y1 + y2) / 2) for (x1, y1), (x2, y2) in pairwise(inner)]
    return any(_locate(x, y, outer) > 0 for x, y in (*inner, *middles))


def contains(polygons: tuple, lat: float, lon: float) -> bool:
    """GeoUtil.contains: strictly inside one of the areas and not inside nor on a hole."""
    areas, holes = polygons
    return any(_locate(lat, lon, r) > 0 for r in areas) and not any(_locate(lat, lon, r) >= 0 for r in holes)
