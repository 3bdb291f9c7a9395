"""Drive every server of a plan with the official Python MCP SDK client (PyPI `mcp`).

Usage: python py_client.py PLAN.json

PLAN.json (written by tests/tests/clients.rs): {"targets": [{"server", "command", "args", "env",
"url", "tool", "arguments"}], "transports"?: [...], "modes"?: [...]}. For every target, every
transport (stdio: the client starts `command` with exactly `env` added to a minimal environment;
http: the client connects to `url`) and every negotiation mode (`auto`: the SDK probes
`server/discover`, i.e. 2026-07-28; `legacy`: the `initialize` handshake), the client lists the
tools and calls `tool` once. Default: both transports, both modes. One JSON line per run goes to
stdout; the Rust test judges them.
"""

import asyncio
import importlib.metadata
import json
import sys
import traceback

from mcp import Client, StdioServerParameters

CLIENT = f"python mcp {importlib.metadata.version('mcp')}"


def text_of(result) -> str:
    parts = [c.text for c in result.content if getattr(c, "type", None) == "text"]
    return "\n".join(parts)


def describe(e: BaseException) -> str:
    """The innermost exceptions of a (nested) exception group, one per line."""
    if isinstance(e, BaseExceptionGroup):
        return "\n".join(describe(x) for x in e.exceptions)
    return "".join(traceback.format_exception_only(type(e), e)).strip()


async def run(target: dict, transport: str, mode: str) -> dict:
    report = {"client": CLIENT, "server": target["server"], "transport": transport, "mode": mode}
    if transport == "stdio":
        server = StdioServerParameters(command=target["command"], args=target["args"], env=target["env"])
    else:
        server = target["url"]
    try:
        async with Client(server, mode=mode, read_timeout_seconds=60) as client:
            report["protocol"] = client.protocol_version
            info = client.server_info
            report["server_info"] = info.name if info is not None else None
            tools = await client.list_tools()
            report["tools"] = sorted(t.name for t in tools.tools)
            result = await client.call_tool(target["tool"], target["arguments"])
            report["call"] = {"is_error": bool(result.is_error), "text": text_of(result)[:400]}
    except BaseException as e:  # noqa: BLE001 - the report names any failure; the test fails on it
        report["error"] = describe(e)[:2000]
    return report


async def main() -> None:
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    runs = [
        run(t, transport, mode)
        for t in plan["targets"]
        for transport in plan.get("transports", ("stdio", "http"))
        for mode in plan.get("modes", ("auto", "legacy"))
    ]
    # A few at a time: the machine is small and every stdio run starts a server process.
    sem = asyncio.Semaphore(4)

    async def limited(coro):
        async with sem:
            return await coro

    for report in await asyncio.gather(*(limited(r) for r in runs)):
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
