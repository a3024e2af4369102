"""Reference geodesic distances (geographiclib), haversine distances (the formula, written out
here) and geodesic polygon areas (pyproj's Geod, and geographiclib's PolygonArea) for stdin.

stdin:  {"pairs": [[lon1, lat1, lon2, lat2], ...], "polygons": [GeoJSON Polygon, ...]}
stdout: {"geodesic": [m, ...], "azimuths": [[azi1, azi2], ...], "haversine": [m, ...],
         "pyproj": [[area, perimeter], ...], "geographiclib": [[area, perimeter], ...]}
"""
import json, math, sys
from geographiclib.geodesic import Geodesic
from pyproj import Geod
from shapely.geometry import shape

q = json.load(sys.stdin)
wgs84 = Geodesic.WGS84
R = 6371008.8
out = {"geodesic": [], "azimuths": [], "haversine": [], "pyproj": [], "geographiclib": []}
for lon1, lat1, lon2, lat2 in q["pairs"]:
    g = wgs84.Inverse(lat1, lon1, lat2, lon2)
    out["geodesic"].append(g["s12"])
    out["azimuths"].append([g["azi1"], g["azi2"]])
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    out["haversine"].append(2 * R * math.asin(min(1.0, math.sqrt(h))))
geod = Geod(ellps="WGS84")
for poly in q["polygons"]:
    area, perimeter = geod.geometry_area_perimeter(shape(poly))
    out["pyproj"].append([abs(area), perimeter])
    rings = poly["coordinates"]
    total, length = 0.0, 0.0
    for i, ring in enumerate(rings):
        p = wgs84.Polygon()
        for lon, lat in ring[:-1]:
            p.AddPoint(lat, lon)
        _, per, a = p.Compute()
        total += abs(a) if i == 0 else -abs(a)
        length += per
    out["geographiclib"].append([total, length])
json.dump(out, sys.stdout)
