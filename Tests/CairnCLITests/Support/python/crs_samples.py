"""Coordinate-system references from pyproj (PyPI), PROJ's own Python binding, used independently
of Cairn: sample points in Helsinki written in EPSG:3067 (ETRS-TM35FIN) and EPSG:3879
(ETRS-GK25FIN) as QGIS exports them, and checks of what Cairn stored and served.

stdin, "make":  {"mode": "make", "dir": folder} -> writes named.geojson (EPSG:3067 with its `crs`
                 member) and bare.geojson (EPSG:3879, no member); answers {"points": [[lon, lat]...]}
stdin, "check": {"mode": "check", "points": [[lon, lat]...], "stored": [[lon, lat]...],
                 "served": {"EPSG:3879": [[a, b]...], ...}}
                -> {"storedErrorMetres": max geodesic distance stored vs original,
                    "servedErrorMetres": {system: max distance served vs pyproj's, in metres}}
Served positions are in each system's own axis order (OGC API – Features Part 2): EPSG:3879 is
northing first, EPSG:3067 easting first, EPSG:4326 latitude first.
"""
import json, math, os, sys

from pyproj import CRS, Geod, Transformer

query = json.load(sys.stdin)
if query["mode"] == "make":
    points = [[24.9384 + i * 0.0037, 60.1699 + i * 0.0021] for i in range(12)]

    def collection(system, named):
        t = Transformer.from_crs("EPSG:4326", system, always_xy=True)
        features = []
        for i, (lon, lat) in enumerate(points):
            x, y = t.transform(lon, lat)
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": {"n": i}})
        out = {"type": "FeatureCollection", "features": features}
        if named:
            out["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::" + system.split(":")[1]}}
        return out

    with open(os.path.join(query["dir"], "named.geojson"), "w") as f:
        json.dump(collection("EPSG:3067", True), f)
    with open(os.path.join(query["dir"], "bare.geojson"), "w") as f:
        json.dump(collection("EPSG:3879", False), f)
    print(json.dumps({"points": points}))
else:
    geod = Geod(ellps="WGS84")

    def distance(a, b):
        return geod.inv(a[0], a[1], b[0], b[1])[2]

    stored = max(distance(p, s) for p, s in zip(query["points"], query["stored"]))
    served = {}
    for system, positions in query["served"].items():
        t = Transformer.from_crs("EPSG:4326", system)  # the system's own axis order
        errors = []
        for (lon, lat), got in zip(query["points"], positions):
            want = t.transform(lat, lon)
            if CRS(system).is_geographic:
                errors.append(distance([want[1], want[0]], [got[1], got[0]]))
            else:
                errors.append(math.hypot(want[0] - got[0], want[1] - got[1]))
        served[system] = max(errors)
    print(json.dumps({"storedErrorMetres": stored, "servedErrorMetres": served}))
