// Harness entry: runs Kilo's own indexer (packages/kilo-indexing, unmodified) over a workspace, the way
// Kilo's CodeIndexManager wires it for the Qdrant store, with a deterministic fake embedder, and prints
// a JSON dump of what it writes: the collection (name, creation body, payload indexes), every point
// (id, payload, vector size), the metadata point, the cache file and every call made to Qdrant.
//
//   node dist/harness.js index --workspace DIR --state-dir DIR [--provider P] [--model M]
//        [--dimension N] [--qdrant-url URL] [--store FILE] [--out FILE] [--race]
//   node dist/harness.js parse [--list FILE.json] path...     (CodeParser.parseFile only, per file)
//
// What is Kilo's and what is the harness's:
// - workspace path: realpath of the directory, as Kilo's InstanceStore resolves it
//   (packages/opencode/src/project/instance-store.ts load -> AppFileSystem.resolve, core/src/filesystem.ts).
// - config: CodeIndexConfigManager from the input Kilo's host builds (enabled, provider, model, dimension,
//   vectorStoreProvider "qdrant", qdrantUrl, one credential so isConfigured() holds).
// - vector store: new QdrantVectorStore(workspacePath, qdrantUrl, profile.dimension, apiKey, profile) with
//   profile = resolveEmbeddingProfile(...), as service-factory.ts createVectorStore does.
// - scanner: new DirectoryScanner(...) as service-factory.ts createDirectoryScanner does, with Kilo's
//   codeParser singleton (wrapped only to note each block's type and identifier) and loadIgnore(workspace)
//   as manager.ts _recreateServices does.
// - cache: CacheManager(stateDir, workspacePath); Kilo's stateDir is $XDG_STATE_HOME/kilo/indexing
//   (packages/opencode/src/kilocode/indexing.ts: path.join(Global.Path.state, "indexing")).
// - orchestrator: CodeIndexOrchestrator.startIndexing, unchanged; the file watcher is a no-op (the dump
//   is what one scan writes).
// - embedder: fake (the harness's): each text -> `dimension` floats from sha256 of the text.
// - grammars: by default every grammar is loaded first, one at a time (codeParser.parseFile of a one-line
//   text per extension), so the scan finds them loaded. Kilo loads a grammar on the first file of its
//   extension, up to 10 files at a time (PARSING_CONCURRENCY), and web-tree-sitter's Language.load is not
//   safe when two run at once (tree-sitter/tree-sitter#2338): a load that fails marks the extension as
//   failed for the life of the process (parser.ts failedParsers) and every file of it is cut by lines.
//   Which ones fail depends on timing; --race runs the scan as Kilo does, without the first loads.
import * as fs from "fs"
import * as path from "path"
import { createHash } from "crypto"
import { CodeIndexConfigManager, type IndexingConfigInput } from "../src/indexing/config-manager"
import { CodeIndexStateManager } from "../src/indexing/state-manager"
import { CacheManager } from "../src/indexing/cache-manager"
import { CodeIndexOrchestrator } from "../src/indexing/orchestrator"
import { DirectoryScanner } from "../src/indexing/processors/scanner"
import { codeParser } from "../src/indexing/processors/parser"
import { scannerExtensions, shouldUseFallbackChunking } from "../src/indexing/shared/supported-extensions"
import { QdrantVectorStore } from "../src/indexing/vector-store/qdrant-client"
import { resolveEmbeddingProfile } from "../src/indexing/embedding-profile"
import { loadIgnore } from "../src/indexing/shared/load-ignore"
import { Emitter } from "../src/indexing/runtime"
import type { CodeBlock, ICodeParser, IEmbedder, IFileWatcher } from "../src/indexing/interfaces"
import type { EmbedderProvider } from "../src/indexing/interfaces/manager"
// Resolved to shims/qdrant-js-client-rest.js by build.mjs (the same module Kilo's store imports).
import * as qdrantShim from "@qdrant/js-client-rest"

const shim = qdrantShim as any

function args(argv: string[]) {
	const out: Record<string, string> = {}
	const rest: string[] = []
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i]
		if (a.startsWith("--")) {
			const next = argv[i + 1]
			if (next === undefined || next.startsWith("--")) out[a.slice(2)] = "1"
			else out[a.slice(2)] = argv[++i]
		} else rest.push(a)
	}
	return { opts: out, rest }
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex")

function fakeVector(text: string, dimension: number): number[] {
	const v: number[] = []
	let block = createHash("sha256").update(text).digest()
	for (let i = 0; i < dimension; i++) {
		if (i > 0 && i % 32 === 0) block = createHash("sha256").update(block).digest()
		v.push(Math.round(((block[i % 32] - 127.5) / 127.5) * 1e6) / 1e6)
	}
	return v
}

// Load every grammar Kilo has, one at a time: the state Kilo's CodeParser reaches when no two loads overlap.
async function preloadGrammars() {
	for (const ext of scannerExtensions) {
		if (ext === ".md" || ext === ".markdown" || shouldUseFallbackChunking(ext)) continue
		await codeParser.parseFile(`/kilo-ref-preload${ext}`, { content: "\n", fileHash: "0" })
	}
}

async function parseOnly(paths: string[]) {
	await preloadGrammars()
	const out: any[] = []
	for (const p of paths) {
		const blocks = await codeParser.parseFile(p)
		out.push({
			path: p,
			blocks: blocks.map((b) => ({
				type: b.type,
				identifier: b.identifier,
				start_line: b.start_line,
				end_line: b.end_line,
				content: b.content,
				segmentHash: b.segmentHash,
				fileHash: b.fileHash,
			})),
		})
	}
	return { files: out, failed_parsers: [...((codeParser as any).failedParsers as Set<string>)].sort() }
}

async function index(opts: Record<string, string>) {
	const given = opts["workspace"]
	if (!given) throw new Error("--workspace is required")
	const workspacePath = fs.realpathSync(path.resolve(given))
	const stateDir = path.resolve(opts["state-dir"] ?? path.join(process.cwd(), "state", "kilo", "indexing"))
	const provider = (opts["provider"] ?? "openai-compatible") as EmbedderProvider
	const real = !!opts["qdrant-url"]
	const input: IndexingConfigInput = {
		enabled: true,
		embedderProvider: provider,
		vectorStoreProvider: "qdrant",
		modelId: opts["model"] ?? "kilo-ref-fake-embedder",
		modelDimension: opts["dimension"] ? Number(opts["dimension"]) : 16,
		qdrantUrl: opts["qdrant-url"] ?? "http://localhost:6333",
		qdrantApiKey: opts["qdrant-api-key"],
		// one credential per provider, so that isConfigured() holds whichever provider is named
		kiloApiKey: "x",
		openAiKey: "x",
		ollamaBaseUrl: "http://127.0.0.1:9",
		openAiCompatibleBaseUrl: "http://127.0.0.1:9/v1",
		geminiApiKey: "x",
		mistralApiKey: "x",
		vercelAiGatewayApiKey: "x",
		bedrockRegion: "x",
		openRouterApiKey: "x",
		voyageApiKey: "x",
	}
	const configManager = new CodeIndexConfigManager(input)
	if (!configManager.isFeatureConfigured) throw new Error("configuration is not complete for " + provider)
	const config = configManager.getConfig()

	const cacheManager = new CacheManager(stateDir, workspacePath)
	await cacheManager.initialize()

	// service-factory.ts createVectorStore (Qdrant branch)
	const profile = resolveEmbeddingProfile(config.embedderProvider, config.modelId, config.modelDimension)
	if (!profile || profile.dimension <= 0) throw new Error("no dimension for this provider and model")
	const vectorStore = new QdrantVectorStore(
		workspacePath,
		config.qdrantUrl!,
		profile.dimension,
		config.qdrantApiKey,
		profile,
	)

	const embedded = new Map<string, { sha256: string; length: number }>()
	const embedder: IEmbedder = {
		async createEmbeddings(texts: string[]) {
			const embeddings = texts.map((t) => {
				const v = fakeVector(t, profile.dimension)
				embedded.set(JSON.stringify(v), { sha256: sha256(t), length: t.length })
				return v
			})
			return { embeddings }
		},
		async validateConfiguration() {
			return { valid: true }
		},
		get embedderInfo() {
			return { name: provider }
		},
	}

	const kinds = new Map<string, { type: string; identifier: string | null }>()
	const parsedFiles: string[] = []
	const parser: ICodeParser = {
		async parseFile(filePath: string, options?: { content?: string; fileHash?: string }): Promise<CodeBlock[]> {
			const blocks = await codeParser.parseFile(filePath, options)
			parsedFiles.push(filePath)
			for (const b of blocks) kinds.set(b.segmentHash, { type: b.type, identifier: b.identifier })
			return blocks
		},
	}

	const telemetry: any[] = []
	const meta = { provider: config.embedderProvider, vectorStore: "qdrant" as const, modelId: config.modelId }
	const ignoreInstance = await loadIgnore(workspacePath)
	const scanner = new DirectoryScanner(
		embedder,
		vectorStore,
		parser,
		cacheManager,
		ignoreInstance,
		config.embeddingBatchSize,
		config.scannerMaxBatchRetries,
		(e) => telemetry.push(e),
		meta,
	)

	const watcher: IFileWatcher = {
		async initialize() {},
		updateBatchSegmentThreshold() {},
		setCollecting() {},
		dispose() {},
		onDidStartBatchProcessing: new Emitter<string[]>(),
		onBatchProgressUpdate: new Emitter<{ processedInBatch: number; totalInBatch: number; currentFile?: string }>(),
		onDidFinishBatchProcessing: new Emitter<any>(),
		async processFile(p: string) {
			return { path: p, status: "skipped" as const }
		},
	}

	const stateManager = new CodeIndexStateManager()
	const orchestrator = new CodeIndexOrchestrator(
		configManager,
		stateManager,
		workspacePath,
		cacheManager,
		vectorStore,
		scanner,
		watcher,
		(e) => telemetry.push(e),
		undefined,
		false,
	)
	if (!opts["race"]) await preloadGrammars()
	const started = Date.now()
	await orchestrator.startIndexing("manual")
	await cacheManager.flush()
	const status = stateManager.getCurrentStatus()

	const collection: string = (vectorStore as any).collectionName
	const client = (vectorStore as any).client
	const all: any[] = await client.scrollAll(collection)
	const METADATA_ID = "f946a536-9af4-4f1f-9f95-7d6efb4647d5"
	const points = all
		.filter((p) => String(p.id) !== METADATA_ID)
		.map((p) => {
			const vec = Array.isArray(p.vector) ? p.vector : []
			const e = embedded.get(shim.__ref.sent.get(String(p.id)) ?? "")
			const k = kinds.get(p.payload?.segmentHash)
			return {
				id: String(p.id),
				payload: p.payload,
				vector_size: vec.length,
				embedded_text_sha256: e?.sha256 ?? null,
				embedded_text_length: e?.length ?? null,
				block_type: k?.type ?? null,
				identifier: k?.identifier ?? null,
			}
		})
		.sort(
			(a, b) =>
				String(a.payload?.filePath).localeCompare(String(b.payload?.filePath)) ||
				(a.payload?.startLine ?? 0) - (b.payload?.startLine ?? 0) ||
				(a.payload?.endLine ?? 0) - (b.payload?.endLine ?? 0) ||
				a.id.localeCompare(b.id),
		)
	const meta_point = all.find((p) => String(p.id) === METADATA_ID)

	const cachePath: string = (cacheManager as any).cachePath
	const cacheRaw = fs.existsSync(cachePath) ? fs.readFileSync(cachePath, "utf8") : null

	if (!real && opts["store"]) shim.__ref.save(opts["store"])

	return {
		kilo_indexing: "packages/kilo-indexing (see bench/kilo_check.py KILO_COMMIT)",
		runtime: (process.versions as any).bun ? `bun ${(process.versions as any).bun}` : `node ${process.version}`,
		grammars: opts["race"] ? "loaded by the scan, as Kilo loads them (--race)" : "loaded one at a time before the scan",
		workspace_given: given,
		workspace_path: workspacePath,
		state_dir: stateDir,
		qdrant: real ? { mode: "real", url: input.qdrantUrl } : { mode: "memory" },
		profile,
		status,
		seconds: (Date.now() - started) / 1000,
		collection: {
			name: collection,
			stored: await client.describe(collection),
		},
		metadata_point: meta_point
			? {
					id: String(meta_point.id),
					payload: meta_point.payload,
					vector_size: Array.isArray(meta_point.vector) ? meta_point.vector.length : null,
					vector_all_zero: Array.isArray(meta_point.vector) ? meta_point.vector.every((x: number) => x === 0) : null,
				}
			: null,
		cache_file: {
			path: cachePath,
			raw_sha256: cacheRaw === null ? null : sha256(cacheRaw),
			content: cacheRaw === null ? null : JSON.parse(cacheRaw),
		},
		failed_parsers: [...((codeParser as any).failedParsers as Set<string>)].sort(),
		files_parsed: parsedFiles.sort(),
		telemetry,
		qdrant_calls: shim.__ref.calls,
		point_count: points.length,
		points,
	}
}

async function main() {
	const argv = process.argv.slice(2)
	const cmd = argv[0]
	const { opts, rest } = args(argv.slice(1))
	let result: any
	if (cmd === "parse") {
		const paths = [...rest]
		if (opts["list"]) paths.push(...JSON.parse(fs.readFileSync(opts["list"], "utf8")))
		result = await parseOnly(paths)
	} else if (cmd === "index") {
		result = await index(opts)
	} else {
		throw new Error("usage: harness.js index --workspace DIR ... | parse [--list FILE] path...")
	}
	const text = JSON.stringify(result, null, 1) + "\n"
	if (opts["out"]) fs.writeFileSync(opts["out"], text)
	else process.stdout.write(text)
	// the cache manager's debounced save may still be pending; Kilo flushes at the end of a scan
	process.exit(0)
}

main().catch((e) => {
	console.error(e)
	process.exit(1)
})
