"""The route benchmark's peers: networkx and scipy.sparse.csgraph on the same graph and queries.

argv: EDGES PAIRS SOURCES CUTOFF NX_PAIRS
EDGES: "n" then "u v w" lines; PAIRS: "s t" lines; SOURCES: one node per line.
Prints JSON: seconds per phase and a checksum of the route lengths for comparison.
"""
import json, sys, time
import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

edges_file, pairs_file, sources_file, cutoff, nx_pairs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
with open(edges_file) as f:
    n = int(f.readline())
    rows, cols, ws = [], [], []
    for line in f:
        u, v, w = line.split()
        rows.append(int(u)); cols.append(int(v)); ws.append(float(w))
pairs = [tuple(map(int, l.split())) for l in open(pairs_file)]
sources = [int(l) for l in open(sources_file)]

t0 = time.perf_counter()
G = nx.DiGraph()
G.add_nodes_from(range(n))
for u, v, w in zip(rows, cols, ws):
    if not G.has_edge(u, v) or G[u][v]["w"] > w:
        G.add_edge(u, v, w=w)
nx_build = time.perf_counter() - t0
# scipy keeps the least weight of parallel edges only if summed duplicates are avoided: take the minimum first.
best = {}
for u, v, w in zip(rows, cols, ws):
    if (u, v) not in best or best[(u, v)] > w: best[(u, v)] = w
t0 = time.perf_counter()
keys = list(best.keys())
M = csr_matrix((np.array([best[k] for k in keys]), (np.array([k[0] for k in keys]), np.array([k[1] for k in keys]))), shape=(n, n))
sp_build = time.perf_counter() - t0

def nx_len(s, t):
    try: return nx.dijkstra_path_length(G, s, t, weight="w")
    except nx.NetworkXNoPath: return None

t0 = time.perf_counter()
nx_lengths = [nx_len(s, t) for s, t in pairs[:nx_pairs]]
nx_routes = time.perf_counter() - t0
t0 = time.perf_counter()
sp_lengths = []
for s, t in pairs[:nx_pairs]:
    d = dijkstra(M, directed=True, indices=s)[t]
    sp_lengths.append(None if np.isinf(d) else float(d))
sp_routes = time.perf_counter() - t0
t0 = time.perf_counter()
nx_iso = [len(nx.single_source_dijkstra_path_length(G, s, cutoff=cutoff, weight="w")) for s in sources]
nx_iso_t = time.perf_counter() - t0
t0 = time.perf_counter()
sp_iso = [int(np.sum(~np.isinf(dijkstra(M, directed=True, indices=s, limit=cutoff)))) for s in sources]
sp_iso_t = time.perf_counter() - t0
json.dump({"nx_build": nx_build, "sp_build": sp_build, "pairs": nx_pairs, "nx_routes": nx_routes, "sp_routes": sp_routes,
           "nx_lengths": nx_lengths, "sp_lengths": sp_lengths, "nx_iso": nx_iso_t, "sp_iso": sp_iso_t, "iso_sizes": nx_iso, "sp_iso_sizes": sp_iso}, sys.stdout)
