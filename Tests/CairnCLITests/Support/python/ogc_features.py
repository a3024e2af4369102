"""Reads a Cairn project through OGC API - Features with OWSLib (PyPI `owslib`), the client GIS
scripts use: the landing page, conformance, collections, and every item of each collection,
a page at a time by following the `next` links the server gives (as QGIS and GDAL do).

stdin:  {"url": the project's .../ogc base, "token": a bearer token, "limit": page size,
         "bbox": [w, s, e, n] or null}
stdout: {"conformsTo": [...], "collections": [id, ...],
         "items": {collection: [feature id, ...]}, "pages": {collection: n},
         "commits": {collection: [the ref= of each page's self link]},
         "geometryTypes": {collection: [type, ...]}}
"""
import json, sys
from urllib.parse import parse_qs, urlsplit

import requests
from owslib.ogcapi.features import Features

query = json.load(sys.stdin)
headers = {"Authorization": "Bearer " + query["token"]}
api = Features(query["url"], headers=headers)
out = {"conformsTo": api.conformance()["conformsTo"], "collections": [], "items": {}, "pages": {}, "commits": {}, "geometryTypes": {}}
for collection in api.collections()["collections"]:
    cid = collection["id"]
    out["collections"].append(cid)
    kwargs = {"limit": query["limit"]}
    if query.get("bbox"):
        kwargs["bbox"] = query["bbox"]
    page = api.collection_items(cid, **kwargs)
    ids, pages, commits, types = [], 0, [], []
    while True:
        pages += 1
        ids += [f["id"] for f in page["features"]]
        types += [f["geometry"]["type"] for f in page["features"]]
        links = {l["rel"]: l["href"] for l in page.get("links", [])}
        commits += parse_qs(urlsplit(links["self"]).query).get("ref", [])
        if "next" not in links:
            break
        answer = requests.get(links["next"], headers=headers, timeout=30)
        answer.raise_for_status()
        page = answer.json()
    out["items"][cid], out["pages"][cid], out["commits"][cid], out["geometryTypes"][cid] = ids, pages, commits, sorted(set(types))
print(json.dumps(out))
