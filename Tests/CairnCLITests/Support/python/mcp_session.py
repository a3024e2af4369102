"""Agent sessions through the official MCP Python SDK (PyPI `mcp`): each connects over stdio (a
command to start) or streamable HTTP (a URL with a bearer token), lists the tools, then makes
its planned calls in order. Several sessions run at once: each waits, after its calls, until all
have made theirs, so they overlap (forked before any ends).

stdin:  {"sessions": [{"stdio": {"command", "args", "env"}} or {"http": {"url", "token"}}, "calls": [{"tool", "arguments"}]], ...]}
        (or one session's fields at the top level)
stdout: {"sessions": [{"tools": [tool, ...], "resources": [uri, ...], "results": [{"isError", "text"}, ...]}, ...]}
        (or one session's at the top level)

A call {"pause": {"signal": PATH, "waitFor": PATH}} stops the session until the test has acted; the
signal file it leaves lists the script's child processes (a stdio server's pid), one per line.
A plan may also have "kill": {"pid": P, "after": N} (once N calls are answered, the next is sent
and the process P killed with SIGKILL while it is in flight: a server dying mid-run, timed by
the client, not by a test process that may be starved),
"protocolErrors": true (a call the server refuses as a request, not as a tool error, gives
{"isError": true, "protocolError": true, "text"} and the session goes on), and
"tolerateLoss": true (the server may die mid-session: the first call that fails at the
transport, or gets no answer within 10 s, ends the script at once with what was answered before
it and "lost": the error).
"""
import asyncio, json, os, signal, sys
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
try:
    from mcp.shared.exceptions import MCPError
except ImportError:  # the SDK's older name
    from mcp.shared.exceptions import McpError as MCPError

q = json.load(sys.stdin)
single = "sessions" not in q
plans = [q] if single else q["sessions"]
barrier = asyncio.Barrier(len(plans))
# A plan with "childOf": K starts once session K has begun, as a child of its run (the run id is
# the first word after "Run " in the server's instructions); session K ends after its children.
started = [None] * len(plans)
finished = [None] * len(plans)

def children_of(pid):
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/" + entry + "/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return found

async def session(plan, read, write, k):
    async with ClientSession(read, write) as s:
        init = await s.initialize()
        started[k].set_result((init.instructions or "").split("Run ")[1].split(".")[0] if "Run " in (init.instructions or "") else None)
        tools = (await s.list_tools()).tools
        out = {"tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools], "results": []}
        out["resources"] = [str(r.uri) for r in (await s.list_resources()).resources]
        for c in plan["calls"]:
            if "pause" in c:
                # {"pause": {"signal": PATH, "waitFor": PATH}}: tell the test the calls so far are
                # made, then wait until it has acted (revoked a key, say) before the next call.
                # Never goes on without it: a session that went on would test nothing.
                # The signal file lists the script's child processes: a stdio server's pid.
                with open(c["pause"]["signal"] + ".tmp", "w") as f:
                    f.write("".join(str(p) + "\n" for p in children_of(os.getpid())))
                os.rename(c["pause"]["signal"] + ".tmp", c["pause"]["signal"])
                for _ in range(12000):
                    if os.path.exists(c["pause"]["waitFor"]):
                        break
                    await asyncio.sleep(0.05)
                else:
                    raise SystemExit("the test never acted on the pause (waited 600 s for " + c["pause"]["waitFor"] + ")")
                continue
            try:
                timeout = 10.0 if plan.get("tolerateLoss") else None
                call = asyncio.ensure_future(s.call_tool(c["tool"], c.get("arguments") or {}, read_timeout_seconds=timeout))
                if "kill" in plan and len(out["results"]) == plan["kill"]["after"]:
                    await asyncio.sleep(0.002)
                    os.kill(plan["kill"]["pid"], signal.SIGKILL)
                r = await call
            except BaseException as e:
                if isinstance(e, MCPError) and plan.get("protocolErrors"):
                    # The server refused the request itself (over HTTP, a key that no longer
                    # authenticates gets the generic 401): an answer too, though not a tool result.
                    out["results"].append({"isError": True, "protocolError": True, "text": str(e)})
                    continue
                if not plan.get("tolerateLoss"):
                    raise
                out["lost"], out["run"] = repr(e), started[k].result()
                json.dump(out, sys.stdout)
                sys.stdout.flush()
                os._exit(0)
            d = r.model_dump(mode="json", by_alias=True)
            result = {"isError": bool(d.get("isError")), "text": "".join(x.get("text", "") for x in d.get("content", []))}
            if d.get("structuredContent") is not None:
                result["structured"] = d["structuredContent"]
            out["results"].append(result)
        out["run"] = started[k].result()
        children = [finished[j] for j, p in enumerate(plans) if p.get("childOf") == k]
        if children:
            await asyncio.gather(*children)
        elif not any("childOf" in p for p in plans):
            await barrier.wait()
        return out

async def run(plan, k):
    try:
        if "stdio" in plan:
            p = plan["stdio"]
            args = list(p.get("args", []))
            if "childOf" in plan:
                args += ["--parent", await started[plan["childOf"]]]
            params = StdioServerParameters(command=p["command"], args=args, env=p.get("env"))
            async with stdio_client(params) as (read, write):
                return await session(plan, read, write, k)
        h = plan["http"]
        url = h["url"]
        if "childOf" in plan:
            url += "&parent=" + await started[plan["childOf"]]
        async with create_mcp_http_client(headers={"Authorization": "Bearer " + h["token"]}) as client:
            async with streamable_http_client(url, http_client=client) as (read, write):
                return await session(plan, read, write, k)
    finally:
        finished[k].set_result(True)

async def main():
    for k in range(len(plans)):
        started[k] = asyncio.get_running_loop().create_future()
        finished[k] = asyncio.get_running_loop().create_future()
    results = await asyncio.gather(*(run(p, k) for k, p in enumerate(plans)))
    return results[0] if single else {"sessions": list(results)}

json.dump(asyncio.run(main()), sys.stdout)
