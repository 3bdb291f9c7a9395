"""Start-up time and peak memory of the servers, measured from outside with the official Python
MCP SDK client (PyPI `mcp`, the venv tests/clients/install.sh makes).

    tests/clients/install.sh && localstack/start.sh
    cargo build --release -p aws-s3-mcp -p aws-dynamodb-mcp -p aws-lambda-mcp -p aws-logs-mcp \
        -p aws-bedrock-kb-mcp -p aws-sts-mcp
    ~/.cache/aws-mcp-clients/venv/bin/python tests/clients/startup.py            # all six, 30 runs each
    ~/.cache/aws-mcp-clients/venv/bin/python tests/clients/startup.py -n 50 target/release/aws-s3-mcp

Each run is one short session through the SDK's stdio client, as a desktop client starts a server:
spawn → `initialize` answered (the "init" figure: `Client.__aenter__`, i.e. the process start,
the handshake and the SDK's own parsing of the answer), then `tools/list` and one cheap read-only
tool call, then the child's peak resident memory (`VmHWM` in /proc/<pid>/status, read just before
the client closes stdin). One warm-up session per server is not counted. The server gets the
emulator variables of ~/.cache/aws-mcp-emulators/run/env.sh (`--env-file`) on top of the SDK's
minimal environment; its stderr goes to a temporary file, shown if a session fails.

Most of a server's resident memory is its own code: the kernel maps the binary's pages around
each one the process touches (128 KB at a time here), so the size of the code counts, not only
the heap. `/proc/<pid>/smaps` of a server in a session shows the split.

`--mode auto` negotiates through `server/discover` (2026-07-28) instead of `initialize`.
`--raw` adds the same spawn → answer time measured without the SDK (a bare pipe and one JSON line),
to tell the server's share from the client's. `--json` prints one JSON object per server instead of
the table. Figures are printed, never judged: this is a benchmark, not a test.
"""

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = Path(__file__).resolve().parents[2]

# Every server and the cheap read-only tool each session calls (as tests/tests/clients.rs).
SERVERS = {
    "aws-s3-mcp": "list_buckets",
    "aws-dynamodb-mcp": "list_tables",
    "aws-lambda-mcp": "list_functions",
    "aws-logs-mcp": "describe_log_groups",
    # moto answers ListKnowledgeBases with 404 (see tests/tests/clients.rs): the call is still a
    # full round trip through the SDK and the error mapping.
    "aws-bedrock-kb-mcp": "list_knowledge_bases",
    "aws-sts-mcp": "whoami",
}

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "startup-raw", "version": "0"},
    },
}


def read_env_file(path: Path) -> dict[str, str]:
    """`export K=V` lines of a shell file (no quoting beyond plain values)."""
    env = {}
    if not path.exists():
        sys.exit(f"{path} is missing: start the emulators with localstack/start.sh (or pass --env-file)")
    for line in path.read_text().splitlines():
        m = re.match(r"\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if m:
            env[m.group(1)] = m.group(2).strip().strip("'\"")
    return env


def child_pid() -> int | None:
    """The one live child of this process (sessions run one at a time)."""
    me = str(os.getpid())
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[1] == me and fields[0] != "Z":
            return int(entry.name)
    return None


def status_kb(pid: int, key: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


async def session(binary: str, tool: str, env: dict, mode: str, errlog) -> dict:
    params = StdioServerParameters(command=binary, args=[], env=env)
    t0 = time.perf_counter()
    async with Client(stdio_client(params, errlog=errlog), mode=mode, read_timeout_seconds=30) as client:
        t_init = time.perf_counter()
        pid = child_pid()
        rss_init = status_kb(pid, "VmRSS") if pid else None
        tools = await client.list_tools()
        t_list = time.perf_counter()
        result = await client.call_tool(tool, {})
        t_call = time.perf_counter()
        hwm = status_kb(pid, "VmHWM") if pid else None
    return {
        "init_ms": (t_init - t0) * 1000,
        "list_ms": (t_list - t_init) * 1000,
        "call_ms": (t_call - t_list) * 1000,
        "tools": len(tools.tools),
        "call_error": bool(result.is_error),
        "rss_init_kb": rss_init,
        "peak_kb": hwm,
    }


def raw_init_ms(binary: str, env: dict) -> float:
    """Spawn → the `initialize` answer over a bare pipe, no SDK."""
    base = {k: os.environ[k] for k in ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER") if k in os.environ}
    line = (json.dumps(INITIALIZE) + "\n").encode()
    t0 = time.perf_counter()
    p = subprocess.Popen(
        [binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=base | env
    )
    assert p.stdin and p.stdout
    p.stdin.write(line)
    p.stdin.flush()
    answer = p.stdout.readline()
    t = (time.perf_counter() - t0) * 1000
    p.stdin.close()
    p.wait(timeout=10)
    if b'"result"' not in answer:
        raise RuntimeError(f"{binary}: unexpected answer to initialize: {answer[:300]!r}")
    return t


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, min(len(s) - 1, round(p / 100 * len(s) + 0.5) - 1))]


async def measure(binary: str, runs: int, env: dict, mode: str, raw: bool) -> dict:
    name = Path(binary).name
    tool = SERVERS.get(name)
    if tool is None:
        sys.exit(f"{name}: no cheap tool known for it; known servers: {', '.join(SERVERS)}")
    with tempfile.TemporaryFile("w+") as errlog:
        sessions = []
        for i in range(runs + 1):
            try:
                s = await session(binary, tool, env, mode, errlog)
            except BaseException as e:  # noqa: BLE001 - report the server's stderr with the failure
                errlog.seek(0)
                tail = errlog.read()[-2000:]
                raise SystemExit(f"{name}: session failed: {e!r}\nserver stderr:\n{tail}") from None
            if i > 0:  # the first session warms the page cache
                sessions.append(s)
    init = [s["init_ms"] for s in sessions]
    peak = [s["peak_kb"] / 1024 for s in sessions if s["peak_kb"]]
    row = {
        "server": name,
        "runs": runs,
        "mode": mode,
        "init_ms_median": statistics.median(init),
        "init_ms_p90": pct(init, 90),
        "list_ms_median": statistics.median(s["list_ms"] for s in sessions),
        "call_ms_median": statistics.median(s["call_ms"] for s in sessions),
        "tool": tool,
        "call_errors": sum(s["call_error"] for s in sessions),
        "rss_at_init_mb_median": statistics.median(s["rss_init_kb"] / 1024 for s in sessions if s["rss_init_kb"]),
        "peak_mb_median": statistics.median(peak) if peak else None,
        "peak_mb_max": max(peak) if peak else None,
    }
    if raw:
        raw_init_ms(binary, env)  # warm-up
        r = [raw_init_ms(binary, env) for _ in range(runs)]
        row["raw_init_ms_median"] = statistics.median(r)
        row["raw_init_ms_p90"] = pct(r, 90)
    return row


def table(rows: list[dict], raw: bool) -> str:
    head = ["server", "init ms (median / p90)", "tools/list ms", "call ms", "RSS at init MB", "peak RSS MB (median / max)"]
    if raw:
        head.insert(2, "raw init ms (median / p90)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [
            f"`{r['server']}`",
            f"{r['init_ms_median']:.2f} / {r['init_ms_p90']:.2f}",
            f"{r['list_ms_median']:.2f}",
            f"{r['call_ms_median']:.2f} (`{r['tool']}`{', tool error' if r['call_errors'] else ''})",
            f"{r['rss_at_init_mb_median']:.1f}",
            f"{r['peak_mb_median']:.1f} / {r['peak_mb_max']:.1f}",
        ]
        if raw:
            cells.insert(2, f"{r['raw_init_ms_median']:.2f} / {r['raw_init_ms_p90']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binaries", nargs="*", help="server binaries (default: all six in target/release)")
    ap.add_argument("-n", "--runs", type=int, default=30, help="measured sessions per server (default 30)")
    ap.add_argument("--mode", choices=["legacy", "auto"], default="legacy", help="legacy: initialize (default)")
    ap.add_argument("--env-file", type=Path, default=Path.home() / ".cache/aws-mcp-emulators/run/env.sh")
    ap.add_argument("--raw", action="store_true", help="also time spawn → initialize without the SDK")
    ap.add_argument("--json", action="store_true", help="one JSON object per server instead of the table")
    args = ap.parse_args()
    binaries = args.binaries or [str(ROOT / "target/release" / s) for s in SERVERS]
    for b in binaries:
        if not os.access(b, os.X_OK):
            sys.exit(f"{b} is not an executable: cargo build --release -p {Path(b).name}")
    env = read_env_file(args.env_file)
    rows = []
    for b in binaries:
        row = await measure(b, args.runs, env, args.mode, args.raw)
        if args.json:
            print(json.dumps(row), flush=True)
        rows.append(row)
    if not args.json:
        print(table(rows, args.raw))


if __name__ == "__main__":
    asyncio.run(main())
