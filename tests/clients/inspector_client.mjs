// Drive every server of a plan with the MCP Inspector's CLI mode (npm
// `@modelcontextprotocol/inspector`, `mcp-inspector --cli`), exactly as a person would type it.
//
// Usage: node inspector_client.mjs PLAN.json   (PLAN.json: see py_client.py)
//
// For every target and transport (stdio: the CLI starts `command` with `-e` variables; http: the
// URL), three CLI runs, each a fresh process and connection: `--protocol-era modern --method
// initialize` (a `server/discover` probe, 2026-07-28; the result names the negotiated version),
// `--protocol-era legacy --method tools/list` (the `initialize` handshake), and `--protocol-era
// modern --method tools/call --tool-name T --tool-args-json ARGS`. A CLI run costs about a second
// of CPU, so each era gets one list or call rather than all of them. One JSON line per (target,
// transport) on stdout.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";

const here = new URL(".", import.meta.url).pathname;
const cli = `${here}node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js`;
const version = JSON.parse(
  readFileSync(`${here}node_modules/@modelcontextprotocol/inspector/package.json`, "utf8"),
).version;
const CLIENT = `mcp-inspector --cli ${version}`;

function inspector(args) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, "--cli", "--format", "json", "--quiet", "--connect-timeout", "60000", ...args],
      { timeout: 90000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        let parsed;
        try {
          parsed = JSON.parse(stdout);
        } catch {
          parsed = undefined;
        }
        resolve({ err, parsed, stdout, stderr });
      },
    );
  });
}

async function run(target, transport) {
  const report = { client: CLIENT, server: target.server, transport, mode: "modern", tools_list_mode: "legacy" };
  const where =
    transport === "stdio"
      ? [
          ...Object.entries(target.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
          "--transport",
          "stdio",
          "--",
          target.command,
          ...target.args,
        ]
      : ["--transport", "http", "--server-url", target.url];
  // Options first, the target last (a stdio command's own arguments follow `--`).
  const call = async (era, what, ...opts) => {
    const r = await inspector(["--protocol-era", era, "--method", what, ...opts, ...where]);
    if (r.parsed?.result === undefined) {
      throw new Error(`${what}: ${r.err ?? ""}\nstdout: ${r.stdout.slice(0, 800)}\nstderr: ${r.stderr.slice(0, 800)}`);
    }
    return r.parsed.result;
  };
  try {
    const init = await call("modern", "initialize");
    report.protocol = init.protocolVersion;
    report.server_info = init.serverInfo?.name ?? null;
    const tools = await call("legacy", "tools/list");
    report.tools = tools.tools.map((t) => t.name).sort();
    const result = await call(
      "modern",
      "tools/call",
      "--tool-name",
      target.tool,
      "--tool-args-json",
      JSON.stringify(target.arguments),
    );
    const text = (result.content ?? [])
      .filter((c) => c.type === "text")
      .map((c) => c.text)
      .join("\n");
    report.call = { is_error: Boolean(result.isError), text: text.slice(0, 400) };
  } catch (e) {
    report.error = String(e?.message ?? e).slice(0, 2000);
  }
  return report;
}

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const runs = plan.targets.flatMap((t) => ["stdio", "http"].map((kind) => [t, kind]));
// Every run starts Node processes (and a server on stdio): a few at a time on a small machine.
const reports = new Array(runs.length);
let next = 0;
async function worker() {
  while (next < runs.length) {
    const i = next++;
    reports[i] = await run(...runs[i]);
  }
}
await Promise.all(Array.from({ length: 4 }, worker));
for (const r of reports) process.stdout.write(JSON.stringify(r) + "\n");
