"""Independent reference for the road graph: builds the same network with networkx from the
GeoJSON (its own reading of the rules: nodes are positions rounded to 1e-7 degrees, segments are
haversine lengths on a 6,371,008.8 m sphere, OSM `oneway` respected) and answers the queries on
stdin with networkx's Dijkstra.

stdin:  {"roads": PATH, "pairs": [[[x,y],[x,y]], ...], "isochrones": [[[x,y], cutoff], ...]}
stdout: {"nodes": N, "edges": E, "routes": [length or null, ...], "reachable": [[[x,y], ...], ...]}
"""
import json, math, sys
import networkx as nx

R = 6371008.8

def key(c):
    return (math.floor(c[0] * 1e7 + 0.5), math.floor(c[1] * 1e7 + 0.5))

def haversine(a, b):
    p1, p2 = math.radians(a[1]), math.radians(b[1])
    dp, dl = p2 - p1, math.radians(b[0] - a[0])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * R * math.asin(min(1.0, math.sqrt(h)))

def direction(tags):
    o = tags.get("oneway")
    if o in ("yes", "true", "1"): return 1
    if o in ("-1", "reverse"): return -1
    if o in ("no", "false", "0"): return 0
    return 1 if tags.get("junction") == "roundabout" or tags.get("highway") == "motorway" else 0

q = json.load(sys.stdin)
G = nx.DiGraph()
def add(u, v, w):
    if G.has_edge(u, v):
        G[u][v]["w"] = min(G[u][v]["w"], w)
    else:
        G.add_edge(u, v, w=w)
for f in json.load(open(q["roads"]))["features"]:
    g = f.get("geometry") or {}
    if g.get("type") != "LineString": continue
    cs = g["coordinates"]
    if len(cs) < 2: continue
    tags = {k: str(v) for k, v in (f.get("properties") or {}).items()}
    d = direction(tags)
    for a, b in zip(cs, cs[1:]):
        u, v = key(a), key(b)
        G.add_node(u); G.add_node(v)
        if u == v: continue
        w = haversine(a, b)
        if d >= 0: add(u, v, w)
        if d <= 0: add(v, u, w)

routes = []
for s, t in q["pairs"]:
    try:
        routes.append(nx.dijkstra_path_length(G, tuple(s), tuple(t), weight="w"))
    except nx.NetworkXNoPath:
        routes.append(None)
reach = []
for s, cutoff in q["isochrones"]:
    lengths = nx.single_source_dijkstra_path_length(G, tuple(s), cutoff=cutoff, weight="w")
    reach.append(sorted([list(k) for k in lengths]))
json.dump({"nodes": G.number_of_nodes(), "edges": G.number_of_edges(), "routes": routes, "reachable": reach}, sys.stdout)
