"""Agent sessions through the official MCP Python SDK (PyPI `mcp`): each connects over stdio (a
command to start) or streamable HTTP (a URL with a bearer token), lists the tools, then makes
its planned calls in order. Several sessions run at once: each waits, after its calls, until all
have made theirs, so they overlap (forked before any ends).

stdin:  {"sessions": [{"stdio": {"command", "args", "env"}} or {"http": {"url", "token"}}, "calls": [{"tool", "arguments"}]], ...]}
        (or one session's fields at the top level)
stdout: {"sessions": [{"tools": [tool, ...], "resources": [uri, ...], "results": [{"isError", "text"}, ...]}, ...]}
        (or one session's at the top level)
"""
import asyncio, json, sys
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

q = json.load(sys.stdin)
single = "sessions" not in q
plans = [q] if single else q["sessions"]
barrier = asyncio.Barrier(len(plans))

async def session(plan, read, write):
    async with ClientSession(read, write) as s:
        await s.initialize()
        tools = (await s.list_tools()).tools
        out = {"tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools], "results": []}
        out["resources"] = [str(r.uri) for r in (await s.list_resources()).resources]
        for c in plan["calls"]:
            r = await s.call_tool(c["tool"], c.get("arguments") or {})
            d = r.model_dump(mode="json", by_alias=True)
            out["results"].append({"isError": bool(d.get("isError")), "text": "".join(x.get("text", "") for x in d.get("content", []))})
        await barrier.wait()
        return out

async def run(plan):
    if "stdio" in plan:
        p = plan["stdio"]
        params = StdioServerParameters(command=p["command"], args=p.get("args", []), env=p.get("env"))
        async with stdio_client(params) as (read, write):
            return await session(plan, read, write)
    h = plan["http"]
    async with create_mcp_http_client(headers={"Authorization": "Bearer " + h["token"]}) as client:
        async with streamable_http_client(h["url"], http_client=client) as (read, write):
            return await session(plan, read, write)

async def main():
    results = await asyncio.gather(*(run(p) for p in plans))
    return results[0] if single else {"sessions": list(results)}

json.dump(asyncio.run(main()), sys.stdout)
