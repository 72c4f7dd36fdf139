// Bundles harness/main.ts with Kilo's indexer sources under src/ (packages/kilo-indexing/src, extracted
// by bench/kilo_check.py) into dist/harness.js (cjs, platform node), and copies tree-sitter.wasm and
// every language wasm of tree-sitter-wasms next to the bundle, as Kilo's CLI build does
// (packages/opencode/script/build.ts copyTreeSitterWasms: <bin dir>/tree-sitter/*.wasm). Kilo's
// languageParser.ts looks in __dirname first, so the bundle finds them there, unchanged.
// One import is replaced: @qdrant/js-client-rest -> shims/qdrant-js-client-rest.js, which records
// every call and keeps the collection in memory, or forwards to the real client (the shim itself
// imports the real package).
import * as esbuild from "esbuild"
import * as fs from "fs"
import * as path from "path"
const root = path.dirname(new URL(import.meta.url).pathname)
const dist = path.join(root, "dist")
fs.rmSync(dist, { recursive: true, force: true })
fs.mkdirSync(dist, { recursive: true })
const shim = path.join(root, "shims", "qdrant-js-client-rest.js")
await esbuild.build({
	entryPoints: [path.join(root, "harness/main.ts")],
	outfile: path.join(dist, "harness.js"),
	bundle: true, format: "cjs", platform: "node", target: "node20", sourcemap: true, logLevel: "warning",
	plugins: [{
		name: "kilo-ref-shims",
		setup(build) {
			build.onResolve({ filter: /^@qdrant\/js-client-rest$/ }, (args) =>
				args.importer === shim ? undefined : { path: shim })
		},
	}],
})
fs.copyFileSync(path.join(root, "node_modules/web-tree-sitter/tree-sitter.wasm"), path.join(dist, "tree-sitter.wasm"))
const wd = path.join(root, "node_modules/tree-sitter-wasms/out")
for (const f of fs.readdirSync(wd).filter((f) => f.endsWith(".wasm"))) fs.copyFileSync(path.join(wd, f), path.join(dist, f))
console.error(`built ${dist}/harness.js`)
