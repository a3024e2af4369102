"""A scripted agent standing in for an LLM agent host, launched by a workflow's agent step.

It connects with the official MCP Python SDK (PyPI `mcp`) over streamable HTTP to
$CAIRN_MCP_URL with the bearer $CAIRN_TOKEN (the run's own token), and follows $CAIRN_PROMPT,
a JSON plan written for it: {"read": PATH, "edit": {"path", "old", "new"}}. It prints each
answer and exits 0 when every call succeeded, 1 otherwise. For the test, it leaves its token in
$CAIRN_AGENT_TOKEN_FILE (if set), to show the token is refused once the run has ended.
"""
import asyncio, json, os, sys
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

def failed(result):
    """Whether a tool call answered an error (the SDK names the field is_error, or isError)."""
    return bool(getattr(result, "is_error", getattr(result, "isError", False)))

async def main():
    plan = json.loads(os.environ["CAIRN_PROMPT"])
    if os.environ.get("CAIRN_AGENT_TOKEN_FILE"):
        with open(os.environ["CAIRN_AGENT_TOKEN_FILE"], "w") as f:
            f.write(os.environ["CAIRN_TOKEN"])
    ok = True
    async with create_mcp_http_client(headers={"Authorization": "Bearer " + os.environ["CAIRN_TOKEN"]}) as client:
        async with streamable_http_client(os.environ["CAIRN_MCP_URL"], http_client=client) as (read, write, *_):
            async with ClientSession(read, write) as s:
                await s.initialize()
                tools = sorted(t.name for t in (await s.list_tools()).tools)
                print("tools:", ",".join(tools))
                got = await s.call_tool("Read", {"path": plan["read"]})
                print("read:", got.content[0].text if got.content else "", "error" if failed(got) else "")
                ok = ok and not failed(got)
                e = plan["edit"]
                got = await s.call_tool("Edit", {"path": e["path"], "old": e["old"], "new": e["new"], "reason": "the agent step's edit"})
                print("edit:", got.content[0].text if got.content else "", "error" if failed(got) else "")
                ok = ok and not failed(got)
    sys.exit(0 if ok else 1)

asyncio.run(main())
