"""Reference centroids, bounds and containment from shapely (GEOS) for the geometries on stdin.

stdin:  {"geometries": [GeoJSON, ...], "contains": [[polygon GeoJSON, [x, y]], ...]}
stdout: {"centroids": [[x, y], ...], "bounds": [[minx, miny, maxx, maxy], ...], "contains": [bool, ...]}
"""
import json, sys
from shapely.geometry import shape, Point

q = json.load(sys.stdin)
out = {"centroids": [], "bounds": [], "contains": []}
for g in q["geometries"]:
    s = shape(g)
    c = s.centroid
    out["centroids"].append([c.x, c.y])
    out["bounds"].append(list(s.bounds))
for poly, p in q["contains"]:
    out["contains"].append(bool(shape(poly).contains(Point(p))))
json.dump(out, sys.stdout)
