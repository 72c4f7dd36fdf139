from roocode_tui.core.chunking.keywords import document_vector, looks_like_code, query_vector, term_id, tokens


def test_code_aware_tokens_meet_across_naming_styles():
    camel, snake, words = tokens("getUserName"), tokens("get_user_name"), tokens("user name")
    assert {"get", "user", "name", "getusername"} <= set(camel)
    assert set(camel) == set(snake)  # the identifier is also kept whole, styles aside
    assert {"user", "name"} <= set(words)
    assert "the" not in tokens("the parser") and "parser" in tokens("the parser")
    assert {"http", "server", "httpserver"} <= set(tokens("HTTPServer"))


def test_document_weights_saturate_and_queries_are_binary():
    ids, values = document_vector("cache " * 50 + "evict")
    weights = dict(zip(ids, values, strict=True))
    assert weights[term_id("cache")] < 3 * weights[term_id("evict")]  # tf saturation (BM25 k1)
    q_ids, q_values = query_vector("evict cache")
    assert set(q_ids) == {term_id("evict"), term_id("cache")} and set(q_values) == {1.0}
    assert all(0 <= i < 2**32 for i in ids)


def test_identifier_queries_are_recognised():
    for q in ("getUserName", "get_user_name", "os.path.join", "call parse()", "the `Config` class"):
        assert looks_like_code(q), q
    for q in ("how do I restore a backup", "retry with exponential backoff"):
        assert not looks_like_code(q), q


def test_the_code_a_query_names_is_told_from_its_prose():
    from roocode_tui.core.chunking.keywords import named_code

    query = "The opposite of `_.before`; creates a function that invokes `func` once called `n` times"
    assert named_code(query) == ["_.before", "func"]  # `n`: no token of two letters or more
    assert named_code("Like itermonthdates(), but yields day numbers") == ["itermonthdates(),"]
    assert named_code("where is zorblaxQuuxify used") == ["zorblaxQuuxify"]
    assert named_code("how do I restore a backup") == []
    assert named_code("what does get do") == []  # a bare word: the search decides (defines_any)


def test_a_hybrid_query_weighs_the_code_it_names_above_its_prose():
    from roocode_tui.core.chunking.keywords import PROSE_WEIGHT, hybrid_query_vector

    ids, values = hybrid_query_vector("Creates a function that invokes `maxTimes` when called")
    weights = dict(zip(ids, values, strict=True))
    for code in ("max", "times", "maxtimes"):
        assert weights[term_id(code)] == 1.0, code
    for prose in ("creates", "function", "invokes", "called"):
        assert weights[term_id(prose)] == PROSE_WEIGHT < 1.0, prose
    assert set(ids) == set(query_vector("Creates a function that invokes `maxTimes` when called")[0])
    # a word both in the prose and in the named code counts as code
    ids, values = hybrid_query_vector("the cache holds `cache_size` entries")
    assert dict(zip(ids, values, strict=True))[term_id("cache")] == 1.0
    # a query naming no code is looked for whole, every word alike
    assert hybrid_query_vector("restore a snapshot") == query_vector("restore a snapshot")


def test_a_short_lookup_names_the_definition_its_words_spell():
    from roocode_tui.core.chunking.keywords import lookup_names

    assert lookup_names("what does quote do") == ["quote"]
    assert lookup_names("how to use quote") == ["quote"]
    assert lookup_names("find longest match") == ["findlongestmatch"]  # find_longest_match in words
    assert lookup_names("python glob function") == ["glob"]
    assert lookup_names("get_user_name") == ["getusername"]
    assert lookup_names("python read file lines") == ["readfilelines"]  # matches only a name spelt so
    assert lookup_names("python list all the files in a directory tree") == []  # a question
    assert lookup_names("what does it do") == []


def test_every_languages_definition_has_its_name():
    from roocode_tui.core.chunking.keywords import symbol_of

    assert symbol_of("class A > def get_x") == "getx"
    assert symbol_of("func Frame.Format") == "format"  # Go: a method by its own name
    assert symbol_of("func (b *Buffer) Write") == "write"
    assert symbol_of("impl ScopeGuard<T, F, S> > fn into_inner") == "intoinner"
    assert symbol_of("impl Drop for ScopeGuard<T, F, S>") == "scopeguard"
    assert symbol_of("class Queue > method enqueue") == "enqueue"
    assert symbol_of("#define GET_DELTA") == "getdelta"
    assert symbol_of("Install > Linux") == "" and symbol_of("") == ""  # markdown headings name nothing


def test_the_names_in_the_code_a_question_names():
    from roocode_tui.core.chunking.keywords import named_names

    assert named_names("Get the profiler function as set by threading.setprofile().") == ["threading", "setprofile"]
    quoted = "Invokes `func` up to `n` times; see get_token and `Foo::bar_baz`."
    assert named_names(quoted) == ["func", "foo", "barbaz", "gettoken"]  # quoted first; `n` too short
    assert named_names("Return the cached value for a key") == []  # prose names no code


def test_a_name_is_looked_for_with_the_marks_a_definition_may_end_in():
    from roocode_tui.core.chunking.keywords import spellings, symbol_of

    assert symbol_of("class Object > def blank?") in spellings(["blank"])
    assert symbol_of("class Hash > def param_depth_limit=") in spellings(["paramdepthlimit"])
    assert spellings([]) == []
