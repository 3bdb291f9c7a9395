// Print, for every staged bundle under DIR (DIR/SERVER/manifest.json, from
// packaging/mcpb/build.sh), the server configuration Claude Desktop would run for it with the
// given user settings: the official @anthropic-ai/mcpb library's getMcpConfigForManifest, the
// function Claude Desktop uses (defaults filled in, ${__dirname} and ${user_config.*} replaced,
// platform overrides applied).
//
// Usage: node mcpb_config.mjs DIR '{"aws_region": "us-east-1"}'
// Output: one JSON object {SERVER: {command, args, env}} on stdout.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, sep } from "node:path";
import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";

const [dir, userConfigJson] = process.argv.slice(2);
const userConfig = JSON.parse(userConfigJson ?? "{}");
const out = {};
for (const name of readdirSync(dir).sort()) {
  const manifestPath = join(dir, name, "manifest.json");
  if (!existsSync(manifestPath)) continue;
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  const config = await getMcpConfigForManifest({
    manifest,
    extensionPath: join(dir, name),
    systemDirs: {},
    userConfig,
    pathSeparator: sep,
    logger: { warn: (...a) => console.error(...a), error: (...a) => console.error(...a), log: () => {} },
  });
  out[manifest.name] = config ?? null;
}
process.stdout.write(JSON.stringify(out) + "\n");
