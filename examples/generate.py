#!/usr/bin/env python3
"""Generates the example projects in examples/fiber and examples/water from the Helsinki road
network (../shared/data/helsinki-roads.geojson): an ontology each, and a small dataset placed
along real streets, as a `cairn apply` batch. Deterministic: run it again and nothing changes.

    python3 examples/generate.py
"""
import json, math, pathlib

HERE = pathlib.Path(__file__).resolve().parent
ROADS = HERE.parent.parent / "shared/data/helsinki-roads.geojson"
roads = [f for f in json.load(open(ROADS))["features"] if f["geometry"]["type"] == "LineString" and f["properties"].get("name")]
roads.sort(key=lambda f: f["properties"]["@id"])

def offset(lon, lat, east_m, north_m):
    """A point `east_m`/`north_m` metres from (lon, lat)."""
    return [round(lon + east_m / (111320 * math.cos(math.radians(lat))), 7), round(lat + north_m / 110540, 7)]

def along(i, k=0):
    """The k-th vertex of the i-th named road (wrapping)."""
    coords = roads[i % len(roads)]["geometry"]["coordinates"]
    return coords[k % len(coords)]

def point(c): return {"type": "Point", "coordinates": c}
def feature(geometry, properties, links=None):
    f = {"type": "Feature", "geometry": geometry, "properties": properties}
    if links: f["links"] = links
    return f

def write(name, ontology, files):
    (HERE / name).mkdir(exist_ok=True)
    (HERE / name / "ontology.json").write_text(json.dumps(ontology, indent=1, sort_keys=True) + "\n")
    changes = [{"op": "write", "path": p, "content": json.dumps(v, sort_keys=True, separators=(",", ":"))} for p, v in sorted(files.items())]
    (HERE / name / "data.json").write_text(json.dumps({"changes": changes}, indent=1, sort_keys=True) + "\n")
    print(f"examples/{name}: {len(files)} entities")

ROAD = {"id": "Road", "label": "Road (OpenStreetMap way)", "match": {"glob": "roads/*.json"}, "geometry": "LineString",
        "properties": [{"name": "name", "type": "string"}, {"name": "highway", "type": "string"}]}

# --- Fiber to the home ------------------------------------------------------------------------
fiber = {
  "entityTypes": [
    {"id": "OLT", "label": "Optical line terminal", "tier": 0, "match": {"glob": "fiber/olt/*.json"}, "geometry": "Point",
     "properties": [{"name": "name", "type": "string", "required": True, "pattern": "^OLT-[0-9]+$"},
                    {"name": "ports", "type": "integer", "required": True, "minimum": 1, "maximum": 128, "unit": "ports"}]},
    {"id": "Cabinet", "label": "Street cabinet", "tier": 1, "match": {"glob": "fiber/cabinets/*.json"}, "geometry": "Point",
     "properties": [{"name": "name", "type": "string", "required": True, "pattern": "^CAB-[0-9]+$"},
                    {"name": "status", "type": "enum", "values": ["planned", "built", "in-service"], "default": "planned"},
                    {"name": "installed", "type": "datetime"},
                    {"name": "olt", "type": "reference", "to": "OLT", "required": True}]},
    {"id": "Splitter", "label": "Passive optical splitter", "tier": 2, "match": {"glob": "fiber/splitters/*.json"}, "geometry": "Point",
     "properties": [{"name": "ratio", "type": "integer", "required": True, "unit": "outputs"},
                    {"name": "cabinet", "type": "reference", "to": "Cabinet", "required": True}]},
    {"id": "Closure", "label": "Splice closure", "tier": 2, "match": {"glob": "fiber/closures/*.json"}, "geometry": "Point",
     "properties": [{"name": "splices", "type": "integer", "minimum": 0, "maximum": 96, "default": 0}]},
    {"id": "Drop", "label": "Drop to a building", "tier": 3, "match": {"glob": "fiber/drops/*.json"}, "geometry": "Point",
     "properties": [{"name": "address", "type": "string", "required": True, "minLength": 3},
                    {"name": "homes", "type": "integer", "minimum": 1, "maximum": 200, "default": 1}]},
    {"id": "ONU", "label": "Optical network unit", "tier": 4, "match": {"glob": "fiber/onus/*.json"}, "geometry": "Point",
     "properties": [{"name": "serial", "type": "string", "required": True, "pattern": "^ONU-[0-9A-F]{8}$"}]},
    {"id": "FiberCable", "label": "Fiber cable", "match": {"glob": "fiber/cables/*.json"}, "geometry": "LineString",
     "properties": [{"name": "fibers", "type": "integer", "required": True, "minimum": 1, "maximum": 864, "unit": "fibers"},
                    {"name": "lengthM", "type": "number", "minimum": 0, "unit": "m"}]},
    ROAD,
  ],
  "linkTypes": [
    {"name": "feeds", "from": "*", "to": "*"},
    {"name": "terminates", "from": "Drop", "to": "ONU", "min": 1, "max": 1},
    {"name": "connects", "from": "FiberCable", "to": "*", "min": 2, "max": 2},
  ],
  "constraints": [
    {"name": "splitter-ratio", "message": "splitter ratios are 1:8, 1:16, 1:32 or 1:64", "kind": "enum", "type": "Splitter", "property": "ratio", "values": [8, 16, 32, 64]},
    {"name": "splitter-capacity", "message": "a splitter feeds at most its ratio of drops", "kind": "count", "type": "Splitter", "link": "feeds", "limitProperty": "ratio"},
    {"name": "cabinet-near-road", "message": "every cabinet is within 250 m of a road", "kind": "near", "type": "Cabinet", "target": "Road", "distance": 250},
    {"name": "fiber-hierarchy", "message": "feeds go OLT → Cabinet → Splitter → Drop", "kind": "hierarchy", "link": "feeds", "order": ["OLT", "Cabinet", "Splitter", "Drop"]},
    {"name": "no-feed-loops", "message": "feeds never loop", "kind": "acyclic", "type": "Cabinet", "link": "feeds"},
    {"name": "olt-port-budget", "message": "an OLT feeds at most one cabinet per port", "kind": "count", "type": "OLT", "link": "feeds", "limitProperty": "ports"},
    {"name": "in-service-needs-date", "message": "a cabinet in service has an install date", "kind": "expression", "type": "Cabinet",
     "expression": "status != 'in-service' || has(installed)"},
  ],
}
files = {}
olt = "fiber/olt/1.json"
files[olt] = feature(point(offset(*along(0), 15, 10)), {"name": "OLT-1", "ports": 16}, {"feeds": []})
ratios = [8, 16, 32]
n_drop = 0
for c in range(3):
    cab = f"fiber/cabinets/{c + 1}.json"
    base = along(40 * (c + 1))
    files[olt]["links"]["feeds"].append(cab)
    files[cab] = feature(point(offset(*base, 20, -15)), {"name": f"CAB-{c + 1}", "status": "built", "olt": olt}, {"feeds": []})
    spl = f"fiber/splitters/{c + 1}.json"
    files[cab]["links"]["feeds"].append(spl)
    files[spl] = feature(point(offset(*base, 25, -20)), {"ratio": ratios[c], "cabinet": cab}, {"feeds": []})
    cable = f"fiber/cables/{c + 1}.json"
    files[cable] = feature({"type": "LineString", "coordinates": [offset(*base, 20, -15), offset(*base, 25, -20)]},
                           {"fibers": 48, "lengthM": 7.8}, {"connects": [cab, spl]})
    files[f"fiber/closures/{c + 1}.json"] = feature(point(offset(*base, 22, -17)), {"splices": 12})
    for d in range(4):
        n_drop += 1
        drop, onu = f"fiber/drops/{n_drop}.json", f"fiber/onus/{n_drop}.json"
        files[spl]["links"]["feeds"].append(drop)
        files[drop] = feature(point(offset(*along(40 * (c + 1), d + 1), 10, 10)),
                              {"address": f"{roads[(40 * (c + 1)) % len(roads)]['properties']['name']} {d + 1}"}, {"terminates": [onu]})
        files[onu] = feature(point(offset(*along(40 * (c + 1), d + 1), 12, 12)), {"serial": f"ONU-{0xA0000000 + n_drop:08X}"})
write("fiber", fiber, files)

# --- Water distribution -----------------------------------------------------------------------
water = {
  "entityTypes": [
    {"id": "PumpStation", "tier": 0, "match": {"glob": "water/pumps/*.json"}, "geometry": "Point",
     "properties": [{"name": "name", "type": "string", "required": True},
                    {"name": "capacityM3h", "type": "number", "required": True, "minimum": 0, "unit": "m³/h"}]},
    {"id": "Valve", "tier": 1, "match": {"glob": "water/valves/*.json"}, "geometry": "Point",
     "properties": [{"name": "state", "type": "enum", "values": ["open", "closed", "throttled"], "default": "open"},
                    {"name": "diameterMm", "type": "integer", "minimum": 20, "maximum": 1200, "unit": "mm"}]},
    {"id": "Hydrant", "tier": 2, "match": {"glob": "water/hydrants/*.json"}, "geometry": "Point",
     "properties": [{"name": "flowLs", "type": "number", "minimum": 0, "unit": "l/s"}, {"name": "inspected", "type": "datetime"}]},
    {"id": "Meter", "tier": 2, "match": {"glob": "water/meters/*.json"}, "geometry": "Point",
     "properties": [{"name": "pressurePsi", "type": "number", "required": True, "unit": "psi"},
                    {"name": "demandM3h", "type": "number", "minimum": 0, "default": 0, "unit": "m³/h"},
                    {"name": "account", "type": "string", "pattern": "^W[0-9]{6}$"}]},
    {"id": "Pipe", "match": {"glob": "water/pipes/*.json"}, "geometry": "LineString",
     "properties": [{"name": "material", "type": "enum", "values": ["PE", "PVC", "ductile-iron", "steel"]},
                    {"name": "diameterMm", "type": "integer", "required": True, "minimum": 20, "maximum": 1200, "unit": "mm"},
                    {"name": "tags", "type": "list", "items": {"type": "string"}, "maxItems": 8}]},
    ROAD,
  ],
  "linkTypes": [
    {"name": "supplies", "from": "PumpStation", "to": "Meter"},
    {"name": "connects", "from": "Pipe", "to": "*", "min": 2, "max": 2},
    {"name": "isolates", "from": "Valve", "to": "Pipe", "max": 4},
  ],
  "constraints": [
    {"name": "meter-pressure", "message": "pressure at a meter is between 40 and 60 psi", "kind": "range", "type": "Meter", "property": "pressurePsi", "minimum": 40, "maximum": 60},
    {"name": "pump-capacity", "message": "a pump station supplies no more demand than its capacity", "kind": "sum", "type": "PumpStation", "link": "supplies",
     "sumProperty": "demandM3h", "limitProperty": "capacityM3h"},
    {"name": "hydrant-near-road", "message": "every hydrant is within 100 m of a road", "kind": "near", "type": "Hydrant", "target": "Road", "distance": 100},
    {"name": "large-pipes-not-pe", "message": "pipes over 400 mm are not PE", "kind": "expression", "type": "Pipe", "expression": "diameterMm <= 400 || material != 'PE'"},
  ],
}
files = {}
pump = "water/pumps/1.json"
files[pump] = feature(point(offset(*along(7), 30, 0)), {"name": "Pump station 1", "capacityM3h": 120}, {"supplies": []})
for m in range(8):
    meter = f"water/meters/{m + 1}.json"
    files[pump]["links"]["supplies"].append(meter)
    files[meter] = feature(point(offset(*along(60 + 9 * m), 12, 8)), {"pressurePsi": 44 + 2 * m, "demandM3h": 10 + m, "account": f"W{100000 + m:06d}"})
for v in range(3):
    a, b = along(100 + 13 * v), along(100 + 13 * v, 1)
    pipe = f"water/pipes/{v + 1}.json"
    hydrant, valve = f"water/hydrants/{v + 1}.json", f"water/valves/{v + 1}.json"
    files[hydrant] = feature(point(offset(*a, 8, 8)), {"flowLs": 15, "inspected": "2026-05-01T09:00:00Z"})
    files[valve] = feature(point(offset(*b, 5, 5)), {"diameterMm": 200}, {"isolates": [pipe]})
    files[pipe] = feature({"type": "LineString", "coordinates": [offset(*a, 8, 8), offset(*b, 5, 5)]},
                          {"material": "ductile-iron" if v == 0 else "PE", "diameterMm": 500 if v == 0 else 160, "tags": ["distribution"]},
                          {"connects": [hydrant, valve]})
write("water", water, files)

# --- Field crews (the Run primitive) ------------------------------------------------------------
# Depots, work orders placed beside real streets, and a service zone: the data the README's
# `cairn run` session routes, snaps and measures on.
crew = {
  "entityTypes": [
    {"id": "Depot", "tier": 0, "match": {"glob": "crew/depots/*.json"}, "geometry": "Point",
     "properties": [{"name": "name", "type": "string", "required": True}, {"name": "vans", "type": "integer", "minimum": 0, "required": True}]},
    {"id": "WorkOrder", "tier": 1, "match": {"glob": "crew/orders/*.json"}, "geometry": "Point",
     "properties": [{"name": "task", "type": "enum", "values": ["inspect", "repair", "install"], "required": True},
                    {"name": "minutes", "type": "integer", "minimum": 5, "maximum": 480, "unit": "min"},
                    {"name": "priority", "type": "integer", "minimum": 1, "maximum": 3, "default": 2}]},
    {"id": "Zone", "match": {"glob": "crew/zones/*.json"}, "geometry": "Polygon",
     "properties": [{"name": "name", "type": "string", "required": True}]},
    ROAD,
  ],
  "linkTypes": [{"name": "serves", "from": "Depot", "to": "Zone"}],
  "constraints": [
    {"name": "order-near-road", "message": "every work order is within 50 m of a road", "kind": "near", "type": "WorkOrder", "target": "Road", "distance": 50},
    {"name": "order-in-zone", "message": "every work order lies in a service zone", "kind": "inside", "type": "WorkOrder", "target": "Zone"},
  ],
}
files = {}
files["crew/zones/centre.json"] = feature({"type": "Polygon", "coordinates": [[[24.90, 60.150], [24.98, 60.150], [24.98, 60.185], [24.90, 60.185], [24.90, 60.150]]]},
                                          {"name": "Helsinki centre"})
centre = [r for r in roads if all(24.905 < c[0] < 24.975 and 60.155 < c[1] < 60.18 for c in r["geometry"]["coordinates"])]
for d, (i, name) in enumerate([(3, "Kamppi depot"), (57, "Kallio depot")]):
    files[f"crew/depots/{d + 1}.json"] = feature(point(offset(*centre[i]["geometry"]["coordinates"][0], 6, 6)), {"name": name, "vans": 3 + d},
                                                 {"serves": ["crew/zones/centre.json"]})
tasks = ["inspect", "repair", "install"]
for o in range(12):
    r = centre[(17 * o + 5) % len(centre)]["geometry"]["coordinates"]
    files[f"crew/orders/{o + 1}.json"] = feature(point(offset(*r[len(r) // 2], 9, -7)),
                                                 {"task": tasks[o % 3], "minutes": 30 + 15 * (o % 4), "priority": 1 + o % 3})
write("crew", crew, files)
