"""Reference vehicle routing with Google OR-Tools (PyPI ortools): the same instances, modelled
with its routing library (capacity and time dimensions, waiting allowed, vehicles leave at time
0 and must be back by their return time), solved with guided local search under a time limit.

stdin:  {"instances": [{"distances": [[int]], "stops": [{location, demand, service, earliest, latest}],
                        "vehicles": [{capacity, returnBy}], "depot": 0}], "seconds": S}
stdout: {"costs": [total distance or null, ...]}
"""
import json, sys
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

q = json.load(sys.stdin)
costs = []
for inst in q["instances"]:
    D = inst["distances"]
    stops, vehicles, depot = inst["stops"], inst["vehicles"], inst["depot"]
    nodes = [depot] + [s["location"] for s in stops]   # node 0 is the depot, node i + 1 stop i
    manager = pywrapcp.RoutingIndexManager(len(nodes), len(vehicles), 0)
    routing = pywrapcp.RoutingModel(manager)
    def distance(i, j):
        return D[nodes[manager.IndexToNode(i)]][nodes[manager.IndexToNode(j)]]
    def travel(i, j):
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return D[nodes[a]][nodes[b]] + (stops[a - 1]["service"] if a > 0 else 0)
    def load(i):
        a = manager.IndexToNode(i)
        return stops[a - 1]["demand"] if a > 0 else 0
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(distance))
    horizon = max(v["returnBy"] for v in vehicles)
    routing.AddDimension(routing.RegisterTransitCallback(travel), horizon, horizon, True, "Time")
    time = routing.GetDimensionOrDie("Time")
    for i, s in enumerate(stops):
        time.CumulVar(manager.NodeToIndex(i + 1)).SetRange(s["earliest"], s["latest"])
    for v, veh in enumerate(vehicles):
        time.CumulVar(routing.End(v)).SetMax(veh["returnBy"])
    routing.AddDimensionWithVehicleCapacity(routing.RegisterUnaryTransitCallback(load), 0, [v["capacity"] for v in vehicles], True, "Capacity")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.seconds = q["seconds"]
    solution = routing.SolveWithParameters(params)
    costs.append(solution.ObjectiveValue() if solution else None)
json.dump({"costs": costs}, sys.stdout)
