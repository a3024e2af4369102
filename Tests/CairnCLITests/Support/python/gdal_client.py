"""Reads a Cairn project with GDAL's own tools (Debian `gdal-bin`), as a GIS user would:
`ogrinfo OAPIF:` lists the collections and their feature counts, `ogr2ogr -f GPKG` copies one
collection into a GeoPackage, which is read back (GDAL again) and compared feature by feature
with the store's own export; and the export itself goes through `ogr2ogr` (GeoJSON in, GeoJSON
out) into a file Cairn can import back.

stdin:  {"url": the server's base URL, "project": name, "token": a bearer token,
         "collection": the collection to copy, "glob": the export's glob, "dir": a scratch folder}
stdout: {"layers": {name: feature count as ogrinfo prints it},
         "copied": features in the GeoPackage, "expected": features in the export,
         "mismatches": [first few differences], "roundTrip": the file ogr2ogr wrote}
"""
import json, os, re, subprocess, sys

import requests

query = json.load(sys.stdin)
token, project, work = query["token"], query["project"], query["dir"]
base = query["url"] + "/v1/orgs/default/projects/" + project
env = dict(os.environ, GDAL_HTTP_HEADERS="Authorization: Bearer " + token)
service = "OAPIF:" + base + "/ogc"


def run(*args):
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


layers = {}
name = None
for line in run("ogrinfo", "-ro", "-so", "-al", service).splitlines():
    if line.startswith("Layer name: "):
        name = line[len("Layer name: "):].strip()
    elif line.startswith("Feature Count: ") and name:
        layers[name] = int(line[len("Feature Count: "):])

gpkg = os.path.join(work, "copy.gpkg")
run("ogr2ogr", "-f", "GPKG", gpkg, service, query["collection"], "-oo", "PAGE_SIZE=1000")
back = os.path.join(work, "copy.geojson")
run("ogr2ogr", "-f", "GeoJSON", back, gpkg)
copied = json.load(open(back))["features"]

answer = requests.get(base + "/export", params={"glob": query["glob"]}, headers={"Authorization": "Bearer " + token}, timeout=120)
answer.raise_for_status()
exported = answer.json()["features"]
export_file = os.path.join(work, "export.geojson")
with open(export_file, "w") as f:
    json.dump({"type": "FeatureCollection", "features": exported}, f)


DATE = re.compile(r"^\d{4}[-/]\d{2}[-/]\d{2}")


def same_value(a, b):
    # GDAL's GeoJSON reader takes a date-like string for a date and writes it back with slashes
    # (2015-11-30 becomes 2015/11/30) even into a string field: its rendering, not a change.
    if isinstance(a, str) and isinstance(b, str) and DATE.match(a) and DATE.match(b):
        return a.replace("/", "-") == b.replace("/", "-")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def same_positions(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_positions(x, y) for x, y in zip(a, b))
    return abs(float(a) - float(b)) <= 1e-9


store = {f["id"]: f for f in exported}
mismatches = []
for feature in copied:
    props = dict(feature["properties"])
    fid = props.pop("id", None)
    mine = store.get(fid)
    if mine is None:
        mismatches.append(f"{fid}: not in the store")
        continue
    theirs = {k: v for k, v in props.items() if v is not None}
    if set(theirs) != set(mine["properties"]) or not all(same_value(theirs[k], mine["properties"][k]) for k in theirs):
        mismatches.append(f"{fid}: properties {theirs} != {mine['properties']}")
    g, h = feature["geometry"], mine["geometry"]
    if g["type"] != h["type"] or not same_positions(g["coordinates"], h["coordinates"]):
        mismatches.append(f"{fid}: geometry {g} != {h}")
    if len(mismatches) >= 5:
        break

round_trip = os.path.join(work, "roundtrip.geojson")
run("ogr2ogr", "-f", "GeoJSON", "-lco", "ID_FIELD=id", round_trip, export_file)
print(json.dumps({"layers": layers, "copied": len(copied), "expected": len(exported), "mismatches": mismatches, "roundTrip": round_trip}))
