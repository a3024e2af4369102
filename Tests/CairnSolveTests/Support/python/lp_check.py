"""Independent reference for LP and MIP: solves Cairn's JSON models with HiGHS (PyPI highspy),
built through HiGHS's own API, and writes each model out as MPS and LP text with HiGHS's writers
(for Cairn to read back with GLPK).

stdin:  {"models": [LinearModel JSON, ...], "dir": PATH}
stdout: {"results": [{"status": "optimal"|"infeasible"|"unbounded"|..., "objective": x or null,
                      "mps": text, "lp": text}, ...]}
"""
import json, os, sys
import highspy

q = json.load(sys.stdin)
# HiGHS prints a banner on stdout from C: answer on a copy of stdout, and send fd 1 to stderr.
answer = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)
inf = highspy.kHighsInf
out = []
for k, m in enumerate(q["models"]):
    def solve(presolve):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("presolve", "on" if presolve else "off")
        # A proof, not HiGHS's default 1e-4 relative gap: the answer every solver is held to.
        h.setOptionValue("mip_rel_gap", 0.0)
        index = {}
        for v in m["variables"]:
            lo = v.get("lower", 0)
            up = v.get("upper", 1 if v.get("type") == "binary" else None)
            h.addVar(-inf if lo is None else lo, inf if up is None else up)
            j = h.getNumCol() - 1
            h.passColName(j, v["name"])
            if v.get("type", "continuous") != "continuous":
                h.changeColIntegrality(j, highspy.HighsVarType.kInteger)
            h.changeColCost(j, m["objective"].get(v["name"], 0))
            index[v["name"]] = j
        for c in m["constraints"]:
            items = sorted(c["terms"].items())
            idx = [index[n] for n, _ in items]
            val = [a for _, a in items]
            lo, up = {"<=": (-inf, c["rhs"]), ">=": (c["rhs"], inf), "=": (c["rhs"], c["rhs"])}[c["op"]]
            h.addRow(lo, up, len(idx), idx, val)
            h.passRowName(h.getNumRow() - 1, c["name"])
        h.changeObjectiveSense(highspy.ObjSense.kMaximize if m["sense"] == "maximize" else highspy.ObjSense.kMinimize)
        h.changeObjectiveOffset(m.get("objectiveConstant") or 0)
        h.run()
        return h
    h = solve(True)
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kUnboundedOrInfeasible:
        h = solve(False)
        status = h.getModelStatus()
    name = {highspy.HighsModelStatus.kOptimal: "optimal", highspy.HighsModelStatus.kInfeasible: "infeasible",
            highspy.HighsModelStatus.kUnbounded: "unbounded"}.get(status, str(status))
    texts = {}
    for fmt in ("mps", "lp"):
        path = os.path.join(q["dir"], f"model{k}.{fmt}")
        h.writeModel(path)
        text = open(path).read()
        if fmt == "lp":
            # HiGHS ends with an empty `semi` (semi-continuous) section, which the CPLEX LP format
            # GLPK reads does not have; with nothing in it, dropping the line changes nothing.
            lines = text.split("\n")
            i = lines.index("semi") if "semi" in lines else -1
            if i >= 0 and i + 1 < len(lines) and lines[i + 1] == "end":
                del lines[i]
            text = "\n".join(lines)
        texts[fmt] = text
    out.append({"status": name, "objective": h.getInfo().objective_function_value if name == "optimal" else None, **texts})
json.dump({"results": out}, answer)
answer.flush()
