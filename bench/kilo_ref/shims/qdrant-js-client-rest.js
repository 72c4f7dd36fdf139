// Stand-in for @qdrant/js-client-rest, used by Kilo's QdrantVectorStore (vector-store/qdrant-client.ts)
// in the bundle. Every call Kilo makes is recorded (method, collection, arguments without vectors).
//
// Memory mode (default): collections live in this process, with Qdrant's semantics for what Kilo uses:
// getCollection throws for a missing collection (Kilo takes any error as "missing"), points_count counts
// every point, upsert replaces a point's vector and whole payload, retrieve returns payloads, delete by
// filter evaluates must / should / must_not of `key` + `match.value` conditions on the payload (dotted
// keys walk into objects, so `pathSegments.1` reads payload.pathSegments["1"]; an empty `must` matches
// every point, as on a server). KILO_REF_STORE=FILE loads the collections from FILE at start; the
// harness writes them back at the end, so runs can follow one another.
//
// Real mode (KILO_REF_REAL_QDRANT=1): each call is recorded and forwarded to the real client that
// Kilo would construct, with the same constructor arguments.
const fs = require("fs")

const calls = []
const sent = new Map() // point id -> JSON of the vector Kilo sent (the last one)
const collections = new Map() // name -> { config, indexes: [{field_name, field_schema}], points: Map<id, point> }
const real = process.env.KILO_REF_REAL_QDRANT === "1" ? require("@qdrant/js-client-rest") : null

function load(file) {
	if (!file || !fs.existsSync(file)) return
	const saved = JSON.parse(fs.readFileSync(file, "utf8"))
	for (const [name, c] of Object.entries(saved.collections || {})) {
		collections.set(name, {
			config: c.config,
			indexes: c.indexes || [],
			points: new Map((c.points || []).map((p) => [String(p.id), p])),
		})
	}
}
load(process.env.KILO_REF_STORE)

function save(file) {
	const out = { collections: {} }
	for (const [name, c] of collections) {
		out.collections[name] = { config: c.config, indexes: c.indexes, points: [...c.points.values()] }
	}
	fs.writeFileSync(file, JSON.stringify(out))
}

function lookup(payload, key) {
	let v = payload
	for (const part of key.split(".")) {
		if (v === null || typeof v !== "object") return undefined
		v = v[part]
	}
	return v
}

function isFilter(c) {
	return c && (c.must !== undefined || c.should !== undefined || c.must_not !== undefined)
}

function matchOne(point, c) {
	if (isFilter(c)) return matchFilter(point, c)
	if (c.has_id) return c.has_id.map(String).includes(String(point.id))
	if (c.match && "value" in c.match) return lookup(point.payload || {}, c.key) === c.match.value
	throw new Error(`kilo-ref shim: unsupported condition ${JSON.stringify(c)}`)
}

function matchFilter(point, f) {
	if (!f) return true
	if (f.must && !f.must.every((c) => matchOne(point, c))) return false
	if (f.must_not && f.must_not.some((c) => matchOne(point, c))) return false
	if (f.should && f.should.length > 0 && !f.should.some((c) => matchOne(point, c))) return false
	return true
}

function missing(name) {
	const e = new Error(`Not Found: Collection \`${name}\` doesn't exist!`)
	e.status = 404
	return e
}

function summary(method, args) {
	if (method === "upsert") {
		for (const p of args.points) sent.set(String(p.id), JSON.stringify(p.vector))
		return { wait: args.wait, points: args.points.map((p) => ({ id: p.id, vector_size: p.vector.length })) }
	}
	return args
}

class QdrantClient {
	constructor(options) {
		this.options = options
		calls.push({ method: "constructor", args: options })
		this.inner = real ? new real.QdrantClient(options) : null
	}

	async _call(method, name, args, memory) {
		calls.push({ method, collection: name, args: summary(method, args) })
		try {
			if (this.inner) return await this.inner[method](name, args)
			return memory()
		} catch (e) {
			calls[calls.length - 1].error = String(e && e.message ? e.message : e)
			throw e
		}
	}

	_get(name) {
		const c = collections.get(name)
		if (!c) throw missing(name)
		return c
	}

	getCollection(name) {
		return this._call("getCollection", name, undefined, () => {
			const c = this._get(name)
			const payload_schema = {}
			for (const i of c.indexes) payload_schema[i.field_name] = { data_type: i.field_schema, points: 0 }
			return {
				status: "green",
				points_count: c.points.size,
				indexed_vectors_count: 0,
				segments_count: 1,
				config: { params: { vectors: c.config.vectors }, hnsw_config: c.config.hnsw_config },
				payload_schema,
			}
		})
	}

	createCollection(name, body) {
		return this._call("createCollection", name, body, () => {
			if (collections.has(name)) throw new Error(`Wrong input: Collection \`${name}\` already exists!`)
			collections.set(name, { config: body, indexes: [], points: new Map() })
			return true
		})
	}

	deleteCollection(name) {
		return this._call("deleteCollection", name, undefined, () => collections.delete(name))
	}

	createPayloadIndex(name, body) {
		return this._call("createPayloadIndex", name, body, () => {
			const c = this._get(name)
			if (!c.indexes.some((i) => i.field_name === body.field_name)) c.indexes.push(body)
			return { operation_id: 0, status: "completed" }
		})
	}

	upsert(name, body) {
		return this._call("upsert", name, body, () => {
			const c = this._get(name)
			for (const p of body.points) {
				c.points.set(String(p.id), { id: String(p.id), vector: p.vector, payload: p.payload ?? {} })
			}
			return { operation_id: 0, status: "completed" }
		})
	}

	retrieve(name, body) {
		return this._call("retrieve", name, body, () => {
			const c = this._get(name)
			return body.ids
				.map((id) => c.points.get(String(id)))
				.filter(Boolean)
				.map((p) => ({ id: p.id, payload: p.payload }))
		})
	}

	delete(name, body) {
		return this._call("delete", name, body, () => {
			const c = this._get(name)
			if (body.points) {
				for (const id of body.points) c.points.delete(String(id))
			} else {
				for (const [id, p] of c.points) if (matchFilter(p, body.filter)) c.points.delete(id)
			}
			return { operation_id: 0, status: "completed" }
		})
	}

	query(name, body) {
		return this._call("query", name, body, () => {
			throw new Error("kilo-ref shim: query is not emulated (memory mode)")
		})
	}

	// Used by the harness only (not by Kilo): every point with its vector.
	async scrollAll(name) {
		if (!this.inner) {
			const c = collections.get(name)
			return c ? [...c.points.values()] : []
		}
		const out = []
		let offset
		do {
			const page = await this.inner.scroll(name, { limit: 1000, offset, with_payload: true, with_vector: true })
			out.push(...page.points)
			offset = page.next_page_offset ?? undefined
		} while (offset !== undefined && offset !== null)
		return out
	}

	// Used by the harness only: the collection's config and payload indexes as stored.
	async describe(name) {
		if (!this.inner) {
			const c = collections.get(name)
			return c ? { config: c.config, indexes: c.indexes } : null
		}
		const info = await this.inner.getCollection(name)
		return { info }
	}
}

module.exports = { QdrantClient, __ref: { calls, sent, collections, save } }
