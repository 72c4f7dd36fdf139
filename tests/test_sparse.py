from roocode_tui.core.sparse import document_vector, looks_like_code, query_vector, term_id, tokens


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
