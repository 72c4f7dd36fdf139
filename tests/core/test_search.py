from __future__ import annotations

from pathlib import Path

import pytest

from roocode_tui.core.config import IndexSettings
from roocode_tui.core.display import inert
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.search.searcher import parse_inline_filters, search

NAME = "demo"


async def build(store, embedder, root: Path, settings):
    await Indexer(store, embedder, NAME, [root], index=settings).run()


async def test_results_carry_location_and_text(store, http_embedder, corpus, small_chunks):
    await build(store, http_embedder, corpus, small_chunks)
    result = await search(store, http_embedder, NAME, "restore snapshot stop the server", limit=3)
    top = result.hits[0]
    assert top.path == "docs/backups.md" and top.language == "markdown"
    assert top.root == str(corpus.resolve())
    lines = (corpus / top.path).read_text().split("\n")
    assert top.text in "\n".join(lines[top.start_line - 1 : top.end_line])
    assert result.embed_ms >= 0 and result.store_ms >= 0
    assert set(result.to_json()["results"][0]) >= {
        "root",
        "path",
        "start_line",
        "end_line",
        "score",
        "language",
        "text",
    }


async def test_filters_apply_inside_the_store_before_top_k(store, http_embedder, corpus, small_chunks):
    # Many markdown chunks match "snapshot"; with limit 1 a post-filter would return nothing.
    await build(store, http_embedder, corpus, small_chunks)
    result = await search(store, http_embedder, NAME, "snapshot restore backups", limit=1, path="src/")
    assert len(result.hits) == 1 and result.hits[0].path.startswith("src/")
    result = await search(store, http_embedder, NAME, "snapshot restore backups", limit=1, lang="go")
    assert [h.language for h in result.hits] == ["go"]
    result = await search(store, http_embedder, NAME, "snapshot", limit=5, path="src/**/*.py")
    assert result.hits and all(h.path.endswith(".py") and h.path.startswith("src/") for h in result.hits)
    result = await search(store, http_embedder, NAME, "snapshot", limit=5, lang="python,typescript")
    assert {h.language for h in result.hits} <= {"python", "typescript"}
    result = await search(store, http_embedder, NAME, "snapshot", limit=5, path="nothing/here/")
    assert result.hits == []


def test_inline_filters_are_parsed_out_of_the_query():
    assert parse_inline_filters("path:src/ how do retries work lang:go") == ("how do retries work", "src/", "go")
    assert parse_inline_filters("plain question") == ("plain question", None, None)
    assert parse_inline_filters("xpath:a stays") == ("xpath:a stays", None, None)


def test_inert_text_shows_escapes_and_bidi_controls_visibly():
    hostile = "a\x1b[31mred\x1b]52;c;ZXZpbA==\x07 \u202egnp.exe [bold]x[/]"
    shown = inert(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "␛[31mred" in shown and "<U+202E>" in shown and "[bold]x[/]" in shown
    assert inert("tabs\tand\nnewlines") == "tabs\tand\nnewlines"


async def test_hybrid_and_keyword_find_an_identifier(store, http_embedder, corpus, small_chunks):
    from roocode_tui.core.chunking.keywords import looks_like_code, tokens

    (corpus / "src" / "ids.py").write_text(
        "def zorblax_quuxify(x):\n    return x\n\n\ndef unrelated_helper(y):\n    return y * 2\n"
    )
    await build(store, http_embedder, corpus, small_chunks)
    assert (await store.get_meta(NAME)).hybrid
    query = "where is zorblaxQuuxify"
    assert looks_like_code(query) and "zorblaxquuxify" in tokens(query)
    hybrid = await search(store, http_embedder, NAME, query, limit=3, mode="hybrid", ranking=False)
    keyword = await search(store, http_embedder, NAME, query, limit=3, mode="keyword", ranking=False)
    assert hybrid.mode == "hybrid" and keyword.mode == "keyword"
    assert hybrid.hits[0].path == "src/ids.py" and keyword.hits[0].path == "src/ids.py"
    assert 0 <= hybrid.hits[0].score <= 1  # cosine, the scale dense mode shows
    plain = await search(
        store, http_embedder, NAME, "how do I restore a snapshot", limit=3, mode="hybrid", ranking=False
    )
    assert plain.mode == "dense"  # no identifiers: keywords stay out


async def test_a_sentence_quoting_code_finds_that_code_before_look_alikes_of_its_prose(
    store, http_embedder, corpus, small_chunks
):
    """A description that quotes a name ("... up to `ceiling` times") is mostly prose; its words
    (creates, function, invokes, called) fill the code of many definitions. The keyword lane of a
    hybrid search looks for the name it quotes first, so the definition that has it leads that
    lane instead of look-alikes."""
    from roocode_tui.core.chunking.keywords import hybrid_query_vector, query_vector

    lib = corpus / "src" / "lib"
    lib.mkdir()
    (lib / "cap.js").write_text(
        "function capAt(work, ceiling) {\n  let runs = 0;\n"
        "  return (...args) => (runs < ceiling ? ((runs += 1), work(...args)) : undefined);\n}\n"
    )
    for name in ("once", "counter", "logger"):
        (lib / f"{name}.js").write_text(
            f"// creates a function that invokes the function it wraps and counts the times it was called\n"
            f"function {name}CreatesFunction(invokes) {{\n  let called = 0, times = 0;\n"
            f"  return function createsInvokes() {{ called += 1; times += 1; return invokes(called); }};\n}}\n"
        )
    await build(store, http_embedder, corpus, small_chunks)
    query = "Creates a function that invokes `work` each time it is called, up to `ceiling` times."

    async def keyword_lane(sparse):
        hits = await store.search(NAME, None, 4, sparse=sparse)
        return [h.path for h in hits]

    assert (await keyword_lane(hybrid_query_vector(query)))[0] == "src/lib/cap.js"
    assert (await keyword_lane(query_vector(query)))[0] != "src/lib/cap.js"  # every word alike
    # that lane is the one a hybrid search fuses; keyword mode, a lane alone, weighs every word
    sent = []
    real = store.search

    async def spy(*args, **kwargs):
        sent.append(kwargs.get("sparse"))
        return await real(*args, **kwargs)

    store.search = spy
    named = query + " See `capAt`."  # the lane joins a question naming code defined here
    result = await search(store, http_embedder, NAME, named, limit=3, mode="hybrid", ranking=False)
    assert result.mode == "hybrid" and result.hits
    await search(store, http_embedder, NAME, named, limit=3, mode="keyword", ranking=False)
    assert sent == [hybrid_query_vector(named), query_vector(named)]


async def test_a_sentence_naming_only_code_defined_nowhere_here_stays_dense(store, http_embedder, corpus, small_chunks):
    """`work` and `ceiling` are parameters, `KeyError` a builtin: no chunk defines them, and a
    keyword lane for them leads with whatever mentions them. A collection cut before every
    language's chunks named their definitions (rules 5) keeps the lane until its next run."""
    (corpus / "src" / "cap.js").write_text(
        "function capAt(work, ceiling) {\n  let runs = 0;\n"
        "  return (...args) => (runs < ceiling ? ((runs += 1), work(...args)) : undefined);\n}\n"
    )
    await build(store, http_embedder, corpus, small_chunks)
    for query in (
        "Creates a function that invokes `work` each time it is called, up to `ceiling` times.",
        "Return the cached value for a key or raise a KeyError when it has expired.",
    ):
        assert (await search(store, http_embedder, NAME, query, limit=3, ranking=False)).mode == "dense"
    defined = "Like `capAt`, but the function it returns never stops invoking `work`."
    assert (await search(store, http_embedder, NAME, defined, limit=3, ranking=False)).mode == "hybrid"
    meta = await store.get_meta(NAME)
    meta.chunker = "4"
    await store.save_meta(meta)
    older = await search(store, http_embedder, NAME, "Invokes `work` up to `ceiling` times.", limit=3, ranking=False)
    assert older.mode == "hybrid"


async def test_dense_only_collections_still_search_and_say_how_to_get_hybrid(
    store, http_embedder, corpus, small_chunks
):
    from roocode_tui.core.stores.base import CollectionMeta

    meta = CollectionMeta(name=NAME, model=http_embedder.model_id, dimension=64, query_prefix="", document_prefix="")
    await store.create_collection(meta)  # as built before hybrid existed
    await build(store, http_embedder, corpus, small_chunks)
    result = await search(store, http_embedder, NAME, "parse_args usage", mode="hybrid")
    assert result.mode == "dense" and "rebuild" in result.note and result.hits


def test_adjacent_hits_from_one_file_merge():
    from roocode_tui.core.search.searcher import merge_adjacent
    from roocode_tui.core.stores.base import Hit

    a = Hit("1", 0.9, "/r", "a.py", 10, 12, "python", "l10\nl11\nl12", "def f")
    b = Hit("2", 0.8, "/r", "a.py", 13, 14, "python", "l13\nl14", "def f")
    c = Hit("3", 0.7, "/r", "b.py", 1, 2, "python", "x\ny", "")
    d = Hit("4", 0.6, "/r", "a.py", 30, 31, "python", "far\naway", "")
    merged = merge_adjacent([a, c, b, d])
    assert [(h.path, h.start_line, h.end_line) for h in merged] == [("a.py", 10, 14), ("b.py", 1, 2), ("a.py", 30, 31)]
    assert merged[0].text == "l10\nl11\nl12\nl13\nl14" and merged[0].score == 0.9


async def test_a_short_lookup_naming_a_defined_function_uses_the_keyword_lane(
    store, http_embedder, corpus, small_chunks
):
    await build(store, http_embedder, corpus, small_chunks)
    assert await store.defines_any(NAME, ["sha256file"])  # def sha256_file in checksum.py
    assert not await store.defines_any(NAME, ["nosuchthing"])
    bare = await search(store, http_embedder, NAME, "what does get do", limit=3, ranking=False)
    assert bare.mode == "hybrid"  # "get" is a plain word, but TTLCache defines it
    assert bare.hits[0].path == "src/storage/cache.py"
    prose = await search(store, http_embedder, NAME, "what does verify do", limit=3, ranking=False)
    assert prose.mode == "dense"  # nothing is named "verify"
    long = await search(
        store, http_embedder, NAME, "how do I get a value back from the cache later", limit=3, ranking=False
    )
    assert long.mode == "dense"  # a longer question: "get" is prose there
    web = await search(store, http_embedder, NAME, "python get cached value", limit=3, ranking=False)
    assert web.mode == "dense"  # words asked for together, though "get" is a name
    spelt = await search(store, http_embedder, NAME, "python sha256 file", limit=3, ranking=False)
    assert spelt.mode == "hybrid" and spelt.hits[0].heading == "def sha256_file"  # the name in words


async def test_the_definition_a_lookup_names_leads(store, http_embedder, tmp_path, small_chunks):
    """Its short namesakes (glob0 for glob) match the keyword lane's word as well and, being
    short, score higher there; the definition itself comes first all the same."""
    tree = tmp_path / "lib"
    tree.mkdir()
    body = "\n".join(f"    part_{i} = split_pattern(pathname, {i})" for i in range(12))
    (tree / "globbing.py").write_text(
        f"def glob(pathname, recursive=False):\n{body}\n    return list(iglob(pathname, recursive))\n\n\n"
        "def glob0(dirname, pattern):\n    return glob_zero(dirname, pattern)\n\n\n"
        "def glob1(dirname, pattern):\n    return glob_one(dirname, pattern)\n"
    )
    (tree / "callers.py").write_text("def collect():\n    return glob('*.py') + glob('*.md') + glob('*.txt')\n")
    await build(store, http_embedder, tree, small_chunks)
    result = await search(store, http_embedder, NAME, "what does glob do", limit=5)
    assert result.mode == "hybrid"
    assert result.hits[0].heading == "def glob" and result.hits[0].path == "globbing.py"
    keyword = await search(store, http_embedder, NAME, "what does glob do", limit=5, mode="keyword")
    assert keyword.hits[0].heading != "def glob"  # what the definition is put ahead of


async def test_a_lookup_finds_a_definition_in_any_language(store, http_embedder, tmp_path, small_chunks):
    tree = tmp_path / "lib"
    tree.mkdir()
    body = "\n".join(f"\ttotal += weigh(items[{i}])" for i in range(12))
    (tree / "stock.go").write_text(
        f"package stock\n\n// Restock fills the shelf.\nfunc (s *Shelf) Restock(items []Item) int {{\n"
        f"\ttotal := 0\n{body}\n\treturn total\n}}\n\n"
        "func Restock0() int {\n\treturn restock(0)\n}\n"
    )
    await build(store, http_embedder, tree, small_chunks)
    result = await search(store, http_embedder, NAME, "what does restock do", limit=5)
    assert result.mode == "hybrid" and result.hits[0].heading == "func Shelf.Restock"


async def test_reranker_reorders_the_top_results(store, http_embedder, embed_server, corpus, small_chunks):
    from roocode_tui.core.config import RerankerSettings
    from roocode_tui.core.errors import EmbedderError
    from roocode_tui.core.search.rerank import Reranker

    await build(store, http_embedder, corpus, small_chunks)
    query = "stop the server then restore the snapshot"
    plain = await search(store, http_embedder, NAME, query, limit=5, merge=False)
    reranker = Reranker(RerankerSettings(enabled=True, base_url=embed_server.base_url, model="rr", top_n=5))
    try:
        reranked = await search(store, http_embedder, NAME, query, limit=5, merge=False, reranker=reranker)
    finally:
        await reranker.aclose()
    assert embed_server.reranks == 1
    assert {h.id for h in reranked.hits} == {h.id for h in plain.hits}  # same results, new order

    def overlap(text: str) -> int:
        return len({w.lower() for w in query.split()} & {w.lower().strip(".,`") for w in text.split()})

    assert overlap(reranked.hits[0].text) >= max(overlap(h.text) for h in plain.hits) - 1
    broken = Reranker(RerankerSettings(enabled=True, base_url="http://127.0.0.1:9/v1", model="rr"))
    with pytest.raises(EmbedderError, match=r"reranker http://127\.0\.0\.1:9/v1"):
        await search(store, http_embedder, NAME, query, reranker=broken)
    await broken.aclose()


def test_a_group_name_stands_for_its_collections_in_order_once_each():
    from roocode_tui.core.search.searcher import collection_names

    groups = {"work": ["app", "lib-httpx"], "libs": ["lib-httpx", "lib-rich"]}
    assert collection_names("work") == ["work"]  # no groups configured: a collection's name
    assert collection_names("work", groups) == ["app", "lib-httpx"]
    assert collection_names("work, libs,notes", groups) == ["app", "lib-httpx", "lib-rich", "notes"]
    assert collection_names(["libs", "app"], groups) == ["lib-httpx", "lib-rich", "app"]
    assert collection_names(None, groups) == []


async def test_each_definition_of_a_merged_chunk_is_found_by_name(store, http_embedder, tmp_path, small_chunks):
    tree = tmp_path / "lib"
    tree.mkdir()
    (tree / "tiny.go").write_text(
        "package tiny\n\nfunc Alpha() int {\n\treturn 1\n}\n\nfunc Beta() int {\n\treturn 2\n}\n"
    )
    await build(store, http_embedder, tree, IndexSettings(chunk_tokens=300, chunk_overlap_tokens=30))
    assert await store.count(NAME) == 1  # the two small functions share a chunk
    assert await store.defines_any(NAME, ["beta"]) and await store.defines_any(NAME, ["alpha"])
    result = await search(store, http_embedder, NAME, "what does beta do", limit=3)
    assert result.mode == "hybrid" and result.hits[0].path == "tiny.go"


async def test_a_merged_chunk_holding_the_definition_a_lookup_names_leads(store, http_embedder, tmp_path, small_chunks):
    """A chunk of several small definitions is lifted by the names its payload lists, not
    only by the first one its heading shows."""
    tree = tmp_path / "lib"
    tree.mkdir()
    (tree / "tiny.go").write_text(
        "package tiny\n\nfunc Alpha() int {\n\treturn 1\n}\n\nfunc Beta() int {\n\treturn 2\n}\n"
    )
    (tree / "callers.go").write_text("package tiny\n\nvar total = Beta() + Beta() * Beta() - Beta()\n")
    await build(store, http_embedder, tree, IndexSettings(chunk_tokens=300, chunk_overlap_tokens=30))
    keyword = await search(store, http_embedder, NAME, "what does beta do", limit=3, mode="keyword")
    assert keyword.hits[0].path == "callers.go"  # what the definition is put ahead of
    result = await search(store, http_embedder, NAME, "what does beta do", limit=3)
    assert result.mode == "hybrid" and result.hits[0].path == "tiny.go"
    assert result.hits[0].heading != "func Beta"  # found by its payload's names, not its heading


async def test_ruby_names_ending_in_a_mark_are_found_by_their_words(store, http_embedder, tmp_path, small_chunks):
    """Ruby's `blank?`, `save!` and `name=` are definitions too; a question names them without
    the mark ("what does blank do") or with it, where a word ends ("`blank?` is false")."""
    tree = tmp_path / "lib"
    tree.mkdir()
    body = "\n".join(f"    check_{i}(respond_to?(:empty?) ? empty? : !self)" for i in range(12))
    (tree / "blank.rb").write_text(
        f"class Object\n  def blank?\n{body}\n  end\n\n  def present?\n    !blank?\n  end\nend\n"
    )
    (tree / "callers.rb").write_text("def collect(items)\n  items.reject(&:blank?).map(&:blank?)\nend\n")
    await build(store, http_embedder, tree, small_chunks)
    lookup = await search(store, http_embedder, NAME, "what does blank do", limit=3)
    assert lookup.mode == "hybrid" and lookup.hits[0].heading == "class Object > def blank?"
    sentence = "An object is present when `blank?` is false for it, as the helper says."
    assert (await search(store, http_embedder, NAME, sentence, limit=3)).mode == "hybrid"


async def test_a_query_vector_of_another_size_is_refused_in_every_mode(
    store, http_embedder, corpus, small_chunks, monkeypatch
):
    from roocode_tui.core.errors import ModelMismatchError

    await build(store, http_embedder, corpus, small_chunks)
    real = http_embedder.embed_queries

    async def shorter(texts):
        return (await real(texts))[:, :32]

    monkeypatch.setattr(http_embedder, "embed_queries", shorter)
    for ranking in (True, False):
        with pytest.raises(ModelMismatchError, match=r"collection 'demo' holds 64-d vectors but .* returned 32-d"):
            await search(store, http_embedder, NAME, "restore a snapshot", limit=3, ranking=ranking)


async def test_lanes_asked_together_answer_as_each_asked_alone(store, http_embedder, tmp_path, small_chunks):
    """Store.search_lanes (one call into Qdrant Edge, one batch request to a server) gives what
    each lane's own search gives, ties at the cut included."""
    from roocode_tui.core.chunking.keywords import normalise, query_vector, spellings
    from roocode_tui.core.stores.base import Lane, SearchFilter

    root = tmp_path / "src"
    root.mkdir()
    for i in range(12):  # the same text in many files: every score tied
        (root / f"copy_{i:02d}.py").write_text("def load_settings(path):\n    return parse(path)\n")
    (root / "retry.py").write_text("def retry_with_backoff(fn, tries):\n    '''Call fn again after a pause.'''\n")
    await build(store, http_embedder, root, small_chunks)
    vector = (await http_embedder.embed_queries(["load the settings"]))[0]
    lanes = [
        Lane(vector, None, 5),
        Lane(None, query_vector("load_settings path"), 5),
        Lane(vector, None, 3, SearchFilter(symbols=tuple(spellings([normalise("retry_with_backoff")])))),
        Lane(vector, None, 4, SearchFilter(path_prefix="copy_0")),
    ]
    together = await store.search_lanes("demo", lanes)
    alone = [await store.search("demo", lane.vector, lane.limit, lane.flt, sparse=lane.sparse) for lane in lanes]
    assert [[h.id for h in hits] for hits in together] == [[h.id for h in hits] for hits in alone]
    assert [len(hits) for hits in together] == [5, 5, 1, 4]
    assert together[2][0].path == "retry.py"
