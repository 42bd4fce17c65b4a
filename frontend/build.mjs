// Bundles each entry of src/ (graph.js, family_tree.js, …) with its npm dependencies into one ES module in
// ../app_pages/static/, which the app reads and serves itself (no CDN, works offline).
//
//   npm ci && npm run build               rebuild every bundle (tests/test_frontend_bundle.py checks they match)
//   node build.mjs graph.js               rebuild one
//   node build.mjs --out DIR              write the bundles to DIR instead (the test's rebuild)
//
// Each bundle starts with a line naming the sha256 of everything it was built from (this script, the
// lockfile and its sources), so a test can tell a stale bundle without node; the same test also
// rebuilds them and compares the bytes.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const outDir = outAt >= 0 ? args.splice(outAt, 2)[1] : join(here, "..", "app_pages", "static");
const only = new Set(args);

// What a bundle is built from: this script, package.json, the lockfile, its entry and the shared
// modules of src/ (those whose names start with "_").
export function inputsDigest(entry) {
  const h = createHash("sha256");
  const files = ["build.mjs", "package.json", "package-lock.json",
    ...readdirSync(join(here, "src")).filter((f) => f.endsWith(".js") && (f === entry || f.startsWith("_")))
      .sort().map((f) => "src/" + f)];
  for (const f of files) h.update(f + "\0" + readFileSync(join(here, f)) + "\0");
  return h.digest("hex");
}

const entries = readdirSync(join(here, "src")).filter((f) => f.endsWith(".js") && !f.startsWith("_"))
  .filter((f) => !only.size || only.has(f)).sort();
for (const entry of entries) {
  const result = await esbuild.build({
    entryPoints: [join(here, "src", entry)], bundle: true, format: "esm", minify: true, write: false,
    target: "es2020", legalComments: "none", charset: "utf8", logLevel: "warning",
  });
  const banner = `/* plm-map ${entry} · built by frontend/build.mjs · inputs sha256 ${inputsDigest(entry)} */\n`;
  writeFileSync(join(outDir, entry), banner + result.outputFiles[0].text);
  console.log(`${entry}: ${(result.outputFiles[0].text.length / 1024).toFixed(1)} KiB`);
}
