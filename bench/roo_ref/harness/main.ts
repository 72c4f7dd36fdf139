// Harness entry: runs Roo Code's real CodeParser over files and prints the blocks as JSON.
// Usage: node dist/harness.js [--per-file] [--list FILE.json] [--stdin-json] path...
//   default output: flat JSON list of blocks (in CodeParser order, file by file)
//   --per-file    : [{"path": p, "blocks": [...]}, ...]
//   --list F      : read paths from a JSON array in file F (in addition to argv paths)
import * as fs from "fs"
import { CodeParser } from "../src/services/code-index/processors/parser"

async function main() {
	const argv = process.argv.slice(2)
	let perFile = false
	const paths: string[] = []
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i]
		if (a === "--per-file") perFile = true
		else if (a === "--list") paths.push(...JSON.parse(fs.readFileSync(argv[++i], "utf8")))
		else paths.push(a)
	}
	const parser = new CodeParser()
	const out: any[] = []
	for (const p of paths) {
		// parseFile(p) with no options: Roo reads the file itself (readFile utf8) and hashes it.
		const blocks = await parser.parseFile(p)
		const rows = blocks.map((b) => ({
			file_path: b.file_path,
			identifier: b.identifier,
			type: b.type,
			start_line: b.start_line,
			end_line: b.end_line,
			content: b.content,
			segmentHash: b.segmentHash,
			fileHash: b.fileHash,
		}))
		if (perFile) out.push({ path: p, blocks: rows })
		else out.push(...rows)
	}
	process.stdout.write(JSON.stringify(out, null, 1) + "\n")
}

main().catch((e) => {
	console.error(e)
	process.exit(1)
})
