"""Independent reference for the road graph: builds the same network with networkx from the
GeoJSON (its own reading of the rules: nodes are positions rounded to 1e-7 degrees, segments are
haversine lengths on a 6,371,008.8 m sphere, OSM `oneway` respected) and answers the queries on
stdin with networkx's Dijkstra.

Routes between points part-way along segments ("snapped": the segment u-v of each point and its
fraction from u) are answered by splitting the segments with a node of their own, each way the
road may be travelled.

stdin:  {"roads": PATH, "pairs": [[[x,y],[x,y]], ...], "isochrones": [[[x,y], cutoff], ...],
         "snapped": [[[ux,uy], [vx,vy], t, [ux,uy], [vx,vy], t], ...]}
stdout: {"nodes": N, "edges": E, "routes": [length or null, ...], "reachable": [[[x,y], ...], ...],
         "costs": [[cost of each reachable node, in the order of "reachable"], ...],
         "snapped": [length or null, ...]}
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
reach, costs = [], []
for s, cutoff in q["isochrones"]:
    lengths = nx.single_source_dijkstra_path_length(G, tuple(s), cutoff=cutoff, weight="w")
    ordered = sorted(lengths)
    reach.append([list(k) for k in ordered])
    costs.append([lengths[k] for k in ordered])
nodes, edges = G.number_of_nodes(), G.number_of_edges()

def split(u, v, t, name):
    """A node at fraction t of the way from u to v, joined each way the segment may be travelled."""
    G.add_node(name)
    if G.has_edge(u, v):
        w = G[u][v]["w"]
        G.add_edge(u, name, w=t * w); G.add_edge(name, v, w=(1 - t) * w)
    if G.has_edge(v, u):
        w = G[v][u]["w"]
        G.add_edge(v, name, w=(1 - t) * w); G.add_edge(name, u, w=t * w)

snapped = []
for u1, v1, t1, u2, v2, t2 in q.get("snapped", []):
    split(tuple(u1), tuple(v1), t1, "start")
    split(tuple(u2), tuple(v2), t2, "end")
    try:
        snapped.append(nx.dijkstra_path_length(G, "start", "end", weight="w"))
    except nx.NetworkXNoPath:
        snapped.append(None)
    G.remove_node("start"); G.remove_node("end")
json.dump({"nodes": nodes, "edges": edges, "routes": routes, "reachable": reach, "costs": costs, "snapped": snapped}, sys.stdout)
