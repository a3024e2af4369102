"""An agent session through the official MCP Python SDK (PyPI `mcp`): connects over stdio (a
command to start) or streamable HTTP (a URL with a bearer token), lists the tools, then makes
the planned calls in order.

stdin:  {"stdio": {"command": PATH, "args": [...], "env": {...}}} or {"http": {"url": URL, "token": T}},
        "calls": [{"tool": NAME, "arguments": {...}}, ...]
stdout: {"tools": [{"name", "description", "inputSchema", "annotations"}], "results": [{"isError", "text"}, ...]}
"""
import asyncio, json, sys
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

q = json.load(sys.stdin)

async def session(read, write):
    async with ClientSession(read, write) as s:
        await s.initialize()
        tools = (await s.list_tools()).tools
        out = {"tools": [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools], "results": []}
        for c in q["calls"]:
            r = await s.call_tool(c["tool"], c.get("arguments") or {})
            d = r.model_dump(mode="json", by_alias=True)
            out["results"].append({"isError": bool(d.get("isError")), "text": "".join(x.get("text", "") for x in d.get("content", []))})
        return out

async def main():
    if "stdio" in q:
        p = q["stdio"]
        params = StdioServerParameters(command=p["command"], args=p.get("args", []), env=p.get("env"))
        async with stdio_client(params) as (read, write):
            return await session(read, write)
    h = q["http"]
    async with create_mcp_http_client(headers={"Authorization": "Bearer " + h["token"]}) as client:
        async with streamable_http_client(h["url"], http_client=client) as (read, write):
            return await session(read, write)

json.dump(asyncio.run(main()), sys.stdout)
