// Bundles harness/main.ts with the Roo Code sources under src/ (extracted by bench/roo_check.py) the way
// Roo Code's src/esbuild.mjs does (bundle, cjs, platform node) and copies the wasm files next to the
// bundle as its copyWasms() does, so languageParser.ts finds them by __dirname, unchanged.
import * as esbuild from "esbuild"
import * as fs from "fs"
import * as path from "path"
const root = path.dirname(new URL(import.meta.url).pathname)
const dist = path.join(root, "dist")
fs.rmSync(dist, { recursive: true, force: true })
fs.mkdirSync(dist, { recursive: true })
const shim = (f) => path.join(root, "shims", f)
await esbuild.build({
	entryPoints: [path.join(root, "harness/main.ts")],
	outfile: path.join(dist, "harness.js"),
	bundle: true, format: "cjs", platform: "node", target: "node20", sourcemap: true, logLevel: "warning",
	alias: {
		vscode: shim("vscode.js"),
		"@roo-code/telemetry": shim("roo-code-telemetry.js"),
		"@roo-code/types": shim("roo-code-types.js"),
	},
	plugins: [{
		name: "roo-shims",
		setup(build) {
			// relative imports of src/i18n and RooIgnoreController -> shims
			build.onResolve({ filter: /(^|\/)i18n$/ }, () => ({ path: shim("i18n.js") }))
			build.onResolve({ filter: /RooIgnoreController$/ }, () => ({ path: shim("RooIgnoreController.js") }))
		},
	}],
})
// same as packages/build/src/esbuild.ts copyWasms(): tree-sitter.wasm + all language wasms next to the bundle
fs.copyFileSync(path.join(root, "node_modules/web-tree-sitter/tree-sitter.wasm"), path.join(dist, "tree-sitter.wasm"))
const wd = path.join(root, "node_modules/tree-sitter-wasms/out")
for (const f of fs.readdirSync(wd).filter((f) => f.endsWith(".wasm"))) fs.copyFileSync(path.join(wd, f), path.join(dist, f))
console.error(`built ${dist}/harness.js`)
