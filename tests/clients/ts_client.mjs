// Drive every server of a plan with the official TypeScript SDK client (npm
// `@modelcontextprotocol/sdk`).
//
// Usage: node ts_client.mjs PLAN.json   (PLAN.json: see py_client.py)
//
// For every target and transport (stdio: the SDK starts `command`; http: Streamable HTTP to
// `url`): `initialize` (the 1.x SDK has no `server/discover`: its newest version is 2025-11-25),
// tools/list, one call of `tool`. One JSON line per run on stdout.
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

// The package's `exports` hide package.json from import: read the installed file.
const sdkVersion = JSON.parse(
  readFileSync(new URL("./node_modules/@modelcontextprotocol/sdk/package.json", import.meta.url), "utf8"),
).version;
const CLIENT = `typescript @modelcontextprotocol/sdk ${sdkVersion}`;

// The SDK keeps the negotiated version to itself on stdio: read it off the initialize reply.
function recordProtocol(transport, report) {
  let handler;
  Object.defineProperty(transport, "onmessage", {
    configurable: true,
    get: () => handler,
    set: (h) => {
      handler = (message, extra) => {
        const v = message?.result?.protocolVersion;
        if (typeof v === "string" && report.protocol === undefined) report.protocol = v;
        return h?.(message, extra);
      };
    },
  });
}

async function run(target, transportKind) {
  const report = { client: CLIENT, server: target.server, transport: transportKind, mode: "initialize" };
  const transport =
    transportKind === "stdio"
      ? new StdioClientTransport({ command: target.command, args: target.args, env: target.env, stderr: "pipe" })
      : new StreamableHTTPClientTransport(new URL(target.url));
  recordProtocol(transport, report);
  const client = new Client({ name: "aws-mcp-tests-ts", version: "1.0.0" });
  try {
    await client.connect(transport, { timeout: 30000 });
    report.server_info = client.getServerVersion()?.name ?? null;
    const tools = await client.listTools();
    report.tools = tools.tools.map((t) => t.name).sort();
    const result = await client.callTool({ name: target.tool, arguments: target.arguments }, undefined, {
      timeout: 30000,
    });
    const text = (result.content ?? [])
      .filter((c) => c.type === "text")
      .map((c) => c.text)
      .join("\n");
    report.call = { is_error: Boolean(result.isError), text: text.slice(0, 400) };
  } catch (e) {
    report.error = String(e?.stack ?? e).slice(0, 2000);
  } finally {
    await client.close().catch(() => {});
  }
  return report;
}

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const runs = plan.targets.flatMap((t) => ["stdio", "http"].map((kind) => [t, kind]));
// A few at a time: the machine is small and every stdio run starts a server process.
const reports = new Array(runs.length);
let next = 0;
async function worker() {
  while (next < runs.length) {
    const i = next++;
    reports[i] = await run(...runs[i]);
  }
}
await Promise.all([worker(), worker(), worker(), worker()]);
for (const r of reports) process.stdout.write(JSON.stringify(r) + "\n");
