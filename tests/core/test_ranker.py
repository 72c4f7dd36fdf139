"""The ranking stack (core/search/ranker.py) on real files in a real store: each signal, and --explain."""

from __future__ import annotations

from pathlib import Path

from support.repos import make_repo

from roocode_tui.core.config import IndexSettings
from roocode_tui.core.display import explain_line
from roocode_tui.core.ingest.indexer import Indexer
from roocode_tui.core.search import ranker
from roocode_tui.core.search.searcher import group_files, search, search_many
from roocode_tui.core.stores.base import Hit

NAME = "repo"


async def indexed(store, embedder, tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo")
    await Indexer(store, embedder, NAME, [root], index=IndexSettings()).run()
    return root


async def test_a_symbol_query_leads_with_the_definition_not_its_callers(store, http_embedder, tmp_path):
    await indexed(store, http_embedder, tmp_path)
    assert ranker.query_kind("parse_mailer_settings") == "symbol"
    found = await search(store, http_embedder, NAME, "parse_mailer_settings", limit=5, explain=True)
    top = found.hits[0]
    assert top.path == "mailer/config.py" and "parse_mailer_settings" in top.heading
    assert top.explain["kind"] == "symbol" and top.explain["boosts"]["definition"] > 0
    # the callers name it four times, the definition once: dense alone puts their import first
    dense = await search(store, http_embedder, NAME, "parse_mailer_settings", limit=5, mode="dense")
    assert dense.hits[0].path == "mailer/commands.py"


async def test_a_question_naming_a_files_topic_lifts_that_file(store, http_embedder, tmp_path):
    await indexed(store, http_embedder, tmp_path)
    query = "how is the delay between delivery retries chosen"
    found = await search(store, http_embedder, NAME, query, limit=3, explain=True)
    assert found.hits[0].path == "mailer/retry.py"
    assert found.hits[0].explain["boosts"]["path"] > 0  # "retries" names mailer/retry.py
    queue = next(h for h in found.hits if h.path == "mailer/queue.py")
    assert "path" not in queue.explain["boosts"]


async def test_a_test_file_loses_unless_the_query_asks_for_tests(store, http_embedder, tmp_path):
    await indexed(store, http_embedder, tmp_path)
    query = "drop rendered templates whose time to live has passed"
    plain = await search(store, http_embedder, NAME, query, limit=5, ranking=False)
    assert plain.hits[0].path == "tests/test_cache.py"  # the test repeats the words twice
    ranked = await search(store, http_embedder, NAME, query, limit=5, explain=True)
    assert ranked.hits[0].path == "mailer/cache.py"
    test_hit = next(
        h
        for h in (await search(store, http_embedder, NAME, query, limit=10, explain=True)).hits
        if h.path == "tests/test_cache.py"
    )
    assert test_hit.explain["boosts"]["test"] < 0
    asked = await search(store, http_embedder, NAME, "tests of " + query, limit=5, explain=True)
    assert asked.hits[0].path == "tests/test_cache.py" and "test" not in asked.hits[0].explain["boosts"]


async def test_results_answer_several_files_and_group_into_files(store, http_embedder, tmp_path):
    await indexed(store, http_embedder, tmp_path)
    found = await search(store, http_embedder, NAME, "mailer settings host port sender", limit=6)
    files = group_files(found.hits, limit=3)
    assert len(files) == len({f.path for f in files}) == min(3, len({h.path for h in found.hits}))
    assert [f.path for f in files] == list(dict.fromkeys(h.path for h in found.hits))[:3]
    assert all(f.score == f.hits[0].score for f in files)


def test_explain_line_names_lanes_boosts_and_penalties():
    hit = Hit("1", 0.5, "/r", "tests/test_a.py", 1, 2, "python", "x", "")
    ranked = ranker.rank("how are tokens refreshed", [hit], [hit], 5, explain=True)
    line = explain_line(ranked[0].explain)
    assert line.startswith("question · dense #1 0.500 · keyword #1 0.500")  # a question asked
    assert "-test " in line and line.endswith(f"= {ranked[0].explain['rank_score']:.4f}")


def _py_hit(i: int, path: str, score: float) -> Hit:
    """A five-line Python chunk that defines nothing, at a place of its own in ``path``."""
    return Hit(str(i), score, "/r", path, i * 10 + 1, i * 10 + 5, "python", "x", "")


def test_one_file_one_place_spreads_the_top_over_files():
    dense = [
        _py_hit(1, "a.py", 0.9),
        _py_hit(2, "a.py", 0.89),
        _py_hit(3, "a.py", 0.88),
        _py_hit(4, "b.py", 0.8),
        _py_hit(5, "c.py", 0.5),
    ]
    ranked = ranker.rank("where are a and b handled?", dense, [], 4, explain=True)
    # b.py's chunk is close to a.py's second one: it goes first; c.py's is far below a.py's third
    assert [h.path for h in ranked] == ["a.py", "b.py", "a.py", "a.py"]
    assert ranked[2].explain["boosts"]["same file"] < 0


def test_text_keeps_a_files_second_chunk_in_its_place():
    """A sentence describing code (a doc comment's, a description) asks for one chunk, often
    the second-best of its file: text is not spread over files."""

    dense = [_py_hit(1, "a.py", 0.9), _py_hit(2, "a.py", 0.89), _py_hit(3, "b.py", 0.8)]
    ranked = ranker.rank("returns the index of the first instance of a value", dense, [], 3, explain=True)
    assert [h.id for h in ranked] == ["1", "2", "3"]
    assert "same file" not in ranked[1].explain["boosts"]


def test_text_grouped_into_files_is_spread_over_files():
    dense = [_py_hit(1, "a.py", 0.9), _py_hit(2, "a.py", 0.89), _py_hit(3, "b.py", 0.8), _py_hit(4, "c.py", 0.5)]
    query = "returns the index of the first instance of a value"
    assert [h.path for h in ranker.rank(query, dense, [], 2)] == ["a.py", "a.py"]
    assert [h.path for h in ranker.rank(query, dense, [], 2, places=True)] == ["a.py", "b.py"]


async def test_a_search_grouped_into_files_spreads_text_through_the_store(store, http_embedder, tmp_path):
    await indexed(store, http_embedder, tmp_path)
    query = "mailer settings host port sender"
    assert ranker.query_kind(query) == "text"
    chunks = await search_many(store, http_embedder, NAME, [query], limit=8, explain=True)
    places = await search_many(store, http_embedder, NAME, [query], limit=8, explain=True, places=True)
    assert not any("same file" in h.explain["boosts"] for h in chunks[0].hits)
    assert any("same file" in h.explain["boosts"] for h in places[0].hits)  # a file's second chunk decayed
    assert len({h.path for h in places[0].hits}) >= len({h.path for h in chunks[0].hits})


def test_a_question_spreads_over_more_files_than_text_does():
    def hit(i: int, path: str, score: float) -> Hit:
        return Hit(str(i), score, "/r", path, i * 30 + 1, i * 30 + 20, "python", "x", f"def f{i}")

    dense = [hit(1, "a.py", 0.9), hit(2, "a.py", 0.88), hit(3, "b.py", 0.65), hit(4, "c.py", 0.3)]
    text = ranker.rank("the retry delay of a delivery", dense, [], 2)
    question = ranker.rank("how is the retry delay of a delivery chosen?", dense, [], 2, explain=True)
    assert [h.path for h in text] == ["a.py", "a.py"]  # the second chunk of the first file
    assert [h.path for h in question] == ["a.py", "b.py"]  # a question asks where: the next file
    assert question[0].explain["kind"] == "question"


def test_query_kinds():
    for name in ("Blueprint", "add_url_rule", "http.Get", "std::vec::Vec", "_private", "getUserName()"):
        assert ranker.query_kind(name) == "symbol", name
    for question in ("how does routing work", "where is the config parsed", "When a retry fails, what happens?"):
        assert ranker.query_kind(question) == "question", question
    for text in ("retry", "Parse the config", "Return the next member of the archive", "how to sort a dict"):
        assert ranker.query_kind(text) == "text", text
    assert ranker.query_kind('"how does routing work"') == "question"  # quoted
    assert ranker.query_kind("retry?") == "text"  # a word, not a question


def test_usage_questions_are_told_from_questions_about_code():
    for usage in (
        "How do I install requests with pip?",
        "Can I put event handlers in a local file?",
        "I'm building a plugin; how do I register it?",
        "How to install the CLI?",
        "Is there a way to install it offline?",
        "Which Ruby version is required, and how do I install the gem?",
    ):
        assert ranker._USAGE.search(usage), usage
    for code in (
        "Where can I find the retry logic?",
        "Where do we parse the config?",
        "How do I/O errors propagate?",
        "What does the im module do?",
        "What happens if I give a pair of numbers as the timeout?",
    ):
        assert not ranker._USAGE.search(code), code


def _rust_hit(i: int, heading: str, score: float, lines: int = 20, symbols: tuple[str, ...] = ()) -> Hit:
    start = i * 30 + 1
    return Hit(str(i), score, "/r", "src/lib.rs", start, start + lines, "rust", "x", heading, symbols=symbols)


def test_a_type_named_in_passing_lifts_its_definition_not_its_impls_or_a_method_spelt_alike():
    # "How is the left side of `Either<L, R>` converted...?": the answer is `fn left`; the
    # question names the type it belongs to. Its `impl` blocks add to a type defined elsewhere,
    # and `fn either` is another name that only normalises alike.
    query = "How is the left side of `Either<L, R>` converted to an `Option<L>`?"
    answer = _rust_hit(1, "impl Either<L, R> > fn left", 0.80)
    impl = _rust_hit(2, "impl Either<L, R>", 0.78)
    method = _rust_hit(3, "impl Either<L, R> > fn either", 0.77)
    enum = _rust_hit(4, "enum Either", 0.60)
    ranked = ranker.rank(query, [answer, impl, method, enum], [], 4, named=frozenset({"either"}), explain=True)
    boosts = {h.heading: h.explain["boosts"] for h in ranked}
    # the answer stays above the impl block and the method spelt alike
    assert [h.heading for h in ranked].index("impl Either<L, R> > fn left") == 1
    assert "definition" not in boosts["impl Either<L, R>"]
    assert "definition" not in boosts["impl Either<L, R> > fn either"]
    assert boosts["enum Either"]["definition"] > 0  # the type's own definition, spelt as asked


def test_text_lifts_only_the_name_it_opens_with(monkeypatch):
    # A doc comment's sentence names what the answer works with: `fn left` answers this one,
    # and the type it names further in takes no lift (a question naming it would lift it).
    query = "Convert the left side of `Either<L, R>` to an `Option<L>`."
    assert ranker.query_kind(query) == "text"
    assert ranker.in_passing(query, {"either", "option"}) == frozenset()
    answer = _rust_hit(1, "impl Either<L, R> > fn left", 0.80)
    enum = _rust_hit(4, "enum Either", 0.79)
    ranked = ranker.rank(query, [answer, enum], [], 2, named=frozenset({"either"}), explain=True)
    assert [h.heading for h in ranked] == ["impl Either<L, R> > fn left", "enum Either"]
    assert "definition" not in ranked[1].explain["boosts"]
    # the subject of the sentence, backticked or called, is the answer; so in a question
    assert ranker.in_passing("`Either::flip` swaps the sides.", {"either", "flip"}) == {"either", "flip"}
    assert ranker.in_passing("ZSTD_compress() : compresses src", {"zstdcompress"}) == {"zstdcompress"}
    assert ranker.in_passing("Why does `Either` hold two types?", {"either"}) == {"either"}
    monkeypatch.setattr(ranker, "NAMED_LEAD", False)
    assert ranker.in_passing(query, {"either"}) == {"either"}


def test_a_function_named_by_its_doc_sentence_is_lifted():
    # Go's doc comments open with the function's name: the definition spelt so is the answer
    query = "TrimLeftFunc returns a slice of the string s with all leading Unicode code points removed."
    other = Hit("1", 0.80, "/r", "strings.go", 1, 30, "go", "x", "func TrimRightFunc")
    target = Hit("2", 0.75, "/r", "strings.go", 40, 70, "go", "x", "func TrimLeftFunc")
    ranked = ranker.rank(query, [other, target], [], 2, named=frozenset({"trimleftfunc"}), explain=True)
    assert ranked[0].heading == "func TrimLeftFunc" and ranked[0].explain["boosts"]["definition"] > 0


def test_a_go_doc_sentence_names_its_function_by_its_first_word_whatever_its_shape():
    # Go's doc comments open with the name ("Marshal returns..."); elsewhere a capitalised
    # first word is a verb, and a type spelt alike is not the answer ("Groups elements...").
    query = "Marshal returns the JSON encoding of v."
    assert ranker.subject_names(query) == {"marshal"}
    assert ranker.subject_names("How does Marshal encode maps?") == frozenset()  # a question
    assert ranker.subject_names("readRune reads a rune.") == frozenset()  # code-shaped: a named name
    assert ranker.subject_names("marshal encodes v.") == {"marshal"}  # an unexported Go name
    other = Hit("1", 0.80, "/r", "encode.go", 1, 30, "go", "x", "func MarshalIndent")
    target = Hit("2", 0.75, "/r", "encode.go", 40, 70, "go", "x", "func Marshal")
    ranked = ranker.rank(query, [other, target], [], 2, named=frozenset({"marshal"}), explain=True)
    assert ranked[0].heading == "func Marshal" and ranked[0].explain["boosts"]["definition"] > 0
    rust = "Groups elements from the `GroupingMap` source by key and multiplies them."
    answer = _rust_hit(1, "impl GroupingMap<I> > fn product", 0.80)
    groups = _rust_hit(2, "struct Groups", 0.79)
    ranked = ranker.rank(rust, [answer, groups], [], 2, named=frozenset({"groups"}), explain=True)
    assert ranked[0].heading == "impl GroupingMap<I> > fn product"
    assert "definition" not in ranked[1].explain["boosts"]


async def test_a_go_doc_sentence_finds_its_function_through_the_store(store, http_embedder, tmp_path):
    root = tmp_path / "gorepo"
    root.mkdir()
    (root / "encode.go").write_text(
        "package json\n\n"
        "func Marshal(v any) ([]byte, error) {\n\te := newEncodeState()\n\treturn e.marshal(v)\n}\n\n"
        "func MarshalIndent(v any, prefix, indent string) ([]byte, error) {\n"
        "\tb, err := Marshal(v)\n\tif err != nil {\n\t\treturn nil, err\n\t}\n"
        "\treturn indentJSON(b, prefix, indent)  // returns the JSON encoding of v, indented\n}\n"
    )
    await Indexer(store, http_embedder, "go", [root], index=IndexSettings()).run()
    found = await search(store, http_embedder, "go", "Marshal returns the JSON encoding of v.", limit=2, explain=True)
    assert found.hits[0].heading == "func Marshal"
    assert found.hits[0].explain["boosts"]["definition"] > 0


def test_a_c_functions_body_is_its_definition_and_its_prototype_only_where_no_body_is():
    query = "How does `cJSON_Minify` treat comments?"
    proto = Hit(
        "1",
        0.82,
        "/r",
        "cJSON.h",
        260,
        264,
        "c",
        "CJSON_PUBLIC(void) cJSON_Minify(char *json);",
        "function cJSON_Minify",
    )
    body = Hit(
        "2", 0.78, "/r", "cJSON.c", 2900, 2960, "c", "void cJSON_Minify(char *json)\n{\n}", "function cJSON_Minify"
    )
    other = Hit("3", 0.80, "/r", "cJSON.c", 100, 130, "c", "static void skip(void)\n{\n}", "function skip")
    named = frozenset({"cjsonminify"})
    ranked = ranker.rank(query, [proto, other, body], [], 3, named=named, explain=True)
    assert ranked[0].path == "cJSON.c" and ranked[0].explain["boosts"]["definition"] > 0
    assert "definition" not in next(h for h in ranked if h.path == "cJSON.h").explain["boosts"]
    # a header alone (a library's API, its bodies elsewhere): the prototype is the definition
    alone = ranker.rank(query, [other, proto], [], 2, named=named, explain=True)
    assert alone[0].path == "cJSON.h" and alone[0].explain["boosts"]["definition"] > 0


def test_a_few_lines_that_define_nothing_lose_to_a_definition():
    imports = Hit("1", 0.80, "/r", "mailer/queue.py", 1, 4, "python", "import os\nimport time", "")
    definition = Hit("2", 0.78, "/r", "mailer/retry.py", 10, 30, "python", "x", "def next_delay")
    far = Hit("3", 0.40, "/r", "mailer/cache.py", 1, 30, "python", "x", "def expire")
    ranked = ranker.rank("how long to wait before the next delivery", [imports, definition, far], [], 2, explain=True)
    assert [h.path for h in ranked] == ["mailer/retry.py", "mailer/queue.py"]
    assert ranked[1].explain["boosts"]["fragment"] < 0


RETRY_DOCS = """# Retries

A failed delivery is retried with exponential backoff and full jitter: the delay between
delivery retries doubles with each attempt, from half a second up to a cap of thirty seconds.
Change the delay between delivery retries with the `base` and `cap` settings.
"""


async def test_a_question_about_code_ranks_the_code_above_the_docs_that_describe_it(store, http_embedder, tmp_path):
    root = make_repo(tmp_path / "repo")
    (root / "docs").mkdir()
    (root / "docs" / "retries.md").write_text(RETRY_DOCS)
    await Indexer(store, http_embedder, NAME, [root], index=IndexSettings()).run()

    async def ranked(query: str) -> list[Hit]:
        return (await search(store, http_embedder, NAME, query, limit=5, explain=True)).hits

    def docs_penalty(hits: list[Hit]) -> float | None:
        return next(h for h in hits if h.path == "docs/retries.md").explain["boosts"].get("docs")

    # the docs repeat the question's words: unranked, they lead
    plain = await search(store, http_embedder, NAME, "delay between delivery retries", limit=3, ranking=False)
    assert plain.hits[0].path == "docs/retries.md"
    # a question about how the code behaves: the code that does it leads
    asked = await ranked("How is the delay between delivery retries chosen?")
    assert asked[0].path == "mailer/retry.py" and asked[0].explain["kind"] == "question"
    assert docs_penalty(asked) < 0
    # a question about using the project, and text that is not a question, keep their docs
    usage = await ranked("How do I change the delay between delivery retries?")
    assert docs_penalty(usage) is None and usage[0].path == "docs/retries.md"
    text = await ranked("the delay between delivery retries")
    assert text[0].explain["kind"] == "text" and docs_penalty(text) is None


def test_a_key_of_a_settings_file_is_not_the_definition_a_question_names():
    # "urllib3" named in passing: a CI workflow's job of that name must not be lifted as its definition
    query = "Where are low-level urllib3 errors turned into this library's own exceptions?"
    job = Hit("1", 0.70, "/r", ".github/workflows/run-tests.yml", 63, 83, "yaml", "x", "key jobs > key urllib3")
    code = Hit("2", 0.75, "/r", "src/requests/adapters.py", 1, 40, "python", "x", "class HTTPAdapter > def send")
    far = Hit("3", 0.40, "/r", "src/requests/models.py", 1, 40, "python", "x", "class Response")
    ranked = ranker.rank(query, [job, code, far], [], 3, named=frozenset({"urllib3"}), explain=True)
    assert ranked[0].path == "src/requests/adapters.py"
    assert "definition" not in ranked[1].explain["boosts"]
    assert ranked[1].explain["boosts"]["ci"] < 0  # and CI settings lose unless asked for
    asked = ranker.rank("which CI workflow runs the urllib3 jobs", [job, code, far], [], 3, explain=True)
    assert "ci" not in next(h for h in asked if h.path.endswith(".yml")).explain["boosts"]


def test_kinds_of_file():
    assert ranker.kinds_of_file("features/command_line.feature") == ("test",)  # Cucumber's
    for test in ("test.c", "src/tests.rs", "util_tests.py", "client_test.go", "tests/unit/a.py"):
        assert ranker.kinds_of_file(test) == ("test",), test
    assert ranker.kinds_of_file("latest.c") == ranker.kinds_of_file("contest.py") == ()
    assert ranker.kinds_of_file(".github/workflows/ci.yml") == ("ci",)
    assert ranker.kinds_of_file(".gitlab-ci.yml") == ("ci",)
    assert ranker.kinds_of_file(".github/CONTRIBUTING.md") == ("docs",)  # not CI settings
    assert ranker.kinds_of_file(".github/FUNDING.yml") == ()
    assert ranker.kinds_of_file("lib/commands/test.js") == ()  # a "test" command's code
    assert ranker.kinds_of_file("docs/user/install.rst") == ("docs",)
    assert ranker.kinds_of_file("src/requests/__init__.py") == ("initialiser",)
    assert ranker.kinds_of_file("src/requests/adapters.py") == ()
