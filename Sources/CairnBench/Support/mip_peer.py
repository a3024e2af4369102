"""The facility benchmark's peer: HiGHS (PyPI highspy) on a Cairn JSON model, built through its
own API and held to a relative gap of 0 (a proof, as CBC is). argv: MODEL RUNS.
Prints JSON: the seconds of each run, the status and the objective."""
import json, os, sys, time
import highspy

# HiGHS prints a banner on stdout from C: answer on a copy of stdout, and send fd 1 to stderr.
answer = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

m = json.load(open(sys.argv[1]))
times, status, objective = [], None, None
for _ in range(int(sys.argv[2])):
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("mip_rel_gap", 0.0)
    inf = highspy.kHighsInf
    index = {}
    for v in m["variables"]:
        lo = v.get("lower", 0)
        up = v.get("upper", 1 if v.get("type") == "binary" else None)
        h.addVar(-inf if lo is None else lo, inf if up is None else up)
        index[v["name"]] = h.getNumCol() - 1
        if v.get("type", "continuous") != "continuous":
            h.changeColIntegrality(index[v["name"]], highspy.HighsVarType.kInteger)
    for name, c in m["objective"].items():
        h.changeColCost(index[name], c)
    for c in m["constraints"]:
        names = list(c["terms"])
        lo, up = -inf, inf
        if c["op"] == "<=": up = c["rhs"]
        elif c["op"] == ">=": lo = c["rhs"]
        else: lo = up = c["rhs"]
        h.addRow(lo, up, len(names), [index[n] for n in names], [c["terms"][n] for n in names])
    t = time.perf_counter()
    h.run()
    times.append(time.perf_counter() - t)
    status = h.modelStatusToString(h.getModelStatus())
    objective = h.getInfo().objective_function_value
json.dump({"times": times, "status": status, "objective": objective}, answer)
answer.flush()
