"""The question miner (core/search/questions.py) on a repository built here with real git commits,
and the scorer (core/search/evaluation.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.repos import commit, git

from roocode_tui.core.search import evaluation, questions
from roocode_tui.core.search.questions import Question, clean_subject, mine_history, symbol_questions


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "shop"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    commit(r, "Initial commit", {"src/cart.py": "def total(items):\n    return sum(items)\n", "README.md": "# Shop\n"})
    commit(
        r,
        "feat(cart): apply the discount code before tax is added (#12)",
        {"src/cart.py": "def total(i):\n    return 1\n"},
    )
    commit(r, "Fix typo in README", {"README.md": "# Shop!\n"})
    commit(r, "Bump version to 1.2.0", {"src/version.py": "V = '1.2.0'\n"})
    commit(r, "chore: update the dependencies of the shop", {"src/cart.py": "def total(i):\n    return 2\n"})
    commit(
        r,
        "Round prices to whole cents when the cart is paid",
        {"src/cart.py": "def total(i):\n    return 3\n", "tests/test_cart.py": "def test_x():\n    pass\n"},
    )
    commit(
        r,
        "Update the dependency lock for the new payment gateway",
        {"src/pay.py": "x = 1\n"},
        author="dependabot[bot] <bot@example.org>",
    )
    commit(r, "Only tests: cover the empty cart when paying", {"tests/test_cart.py": "def test_y():\n    pass\n"})
    big = {f"src/m{i}.py": f"x = {i}\n" for i in range(5)}
    commit(r, "Split the payment module into five smaller modules", big)
    commit(r, "Run the CI workflow on every pull request too", {".github/workflows/ci.yml": "on: [push]\n"})
    commit(r, "Explain how refunds reach the customer's card", {"docs/refunds.md": "# Refunds\n"})
    commit(r, "Handle a gateway timeout by retrying the payment", {"src/pay.py": "def pay():\n    return 1\n"})
    commit(r, "Handle a gateway timeout by retrying the payment", {"src/pay.py": "def pay():\n    return 2\n"})
    git(r, "mv", "src/pay.py", "src/payment.py")
    git(r, "commit", "-q", "-m", "Move the payment code into its own module file")
    return r


def test_the_miner_keeps_behaviour_and_docs_commits_and_drops_the_rest(repo: Path):
    mined = mine_history(repo)
    got = {q.text: (q.kind, q.files) for q in mined}
    assert got == {
        "Apply the discount code before tax is added": ("behaviour", ("src/cart.py",)),
        "Round prices to whole cents when the cart is paid": ("behaviour", ("src/cart.py",)),  # the test left out
        "Explain how refunds reach the customer's card": ("docs", ("docs/refunds.md",)),
        "Move the payment code into its own module file": ("behaviour", ("src/payment.py",)),
    }
    # dropped: the initial commit, typo, version bump, chore, the bot, tests only, five files,
    # CI settings; the payment retry names src/pay.py, which no longer exists; its twin subject once
    assert mined[0].text == "Move the payment code into its own module file"  # newest first


def test_the_miner_keeps_only_indexed_answers_and_a_limit_taken_evenly(repo: Path):
    only_cart = mine_history(repo, ["src/cart.py", "src/payment.py"])
    assert {q.files for q in only_cart} == {("src/cart.py",), ("src/payment.py",)}
    assert len(mine_history(repo, limit=2)) == 2


def test_the_miner_works_from_a_folder_inside_the_work_tree(repo: Path):
    mined = mine_history(repo / "src")
    assert {q.files for q in mined} == {("cart.py",), ("payment.py",)}


def test_subjects_are_cleaned_or_refused():
    assert clean_subject("fix(router): match trailing slashes in mounted apps (#2201)") == (
        "Match trailing slashes in mounted apps"
    )
    assert clean_subject("Merge pull request #5 from a/b") is None
    assert clean_subject('Revert "Add x"') is None
    assert clean_subject("ci: cache the wheels between jobs") is None
    assert clean_subject("Fix lint") is None
    assert clean_subject("Add it") is None  # too short


def test_symbol_questions_are_names_one_file_defines():
    defs = [
        ("parse_config", "src/config.py"),
        ("view", "src/view.py"),  # too short to be a question
        ("Handler", "src/a.py"),
        ("Handler", "src/b.py"),  # two files define it: no one answer
        ("test_parse_config", "tests/test_config.py"),  # a test is no answer
        ("RetryPolicy", "src/retry.py"),
    ]
    assert [(q.text, q.files) for q in symbol_questions(defs)] == [
        ("RetryPolicy", ("src/retry.py",)),
        ("parse_config", ("src/config.py",)),
    ]


def test_every_question_falls_in_one_half_by_its_text():
    halves = {Question(f"question number {i}", "behaviour", ("a.py",)).half for i in range(40)}
    assert halves == {"tune", "held-out"}
    q = Question("how are sessions stored", "behaviour", ("a.py",))
    assert q.half == Question("how are sessions stored", "symbol", ("b.py",)).half


def test_scores_count_a_file_at_its_first_chunk():
    q = Question("how are carts totalled", "behaviour", ("src/cart.py", "src/tax.py"))
    perfect = evaluation.score(q, ["src/cart.py", "src/tax.py", "src/cart.py"])
    assert perfect.ndcg == pytest.approx(1.0) and perfect.mrr == 1.0 and perfect.recall == 1.0
    # a second chunk of a file already found takes a place and scores nothing
    late = evaluation.score(q, ["src/cart.py", "src/cart.py", "src/tax.py"])
    assert late.ndcg == pytest.approx((1 + 1 / 2) / (1 + 1 / 1.5849625), rel=1e-4)
    missed = evaluation.score(q, ["README.md"] * 10 + ["src/cart.py"])
    assert (missed.ndcg, missed.mrr, missed.recall) == (0.0, 0.0, 0.0)
    half = evaluation.score(q, ["README.md", "src/tax.py"])
    assert half.mrr == 0.5 and half.recall == 0.5


async def test_evaluate_scores_each_setup_per_kind_and_half():
    asked = [
        Question("apply the discount", "behaviour", ("src/cart.py",)),
        Question("Cart", "symbol", ("src/cart.py",)),
        Question("refunds", "docs", ("docs/refunds.md",)),
    ]
    seen: list[tuple[str, int, int]] = []

    async def search(queries: list[str], setup: evaluation.Setup) -> list[list[str]]:
        return [["src/cart.py"] if setup.ranking else ["docs/refunds.md"] for _ in queries]

    rows = await evaluation.evaluate(asked, search, on_progress=lambda *a: seen.append(a))
    by_setup = {r["setup"]: r for r in rows}
    assert by_setup["hybrid + ranking"]["ndcg@10"] == pytest.approx(2 / 3, abs=1e-4)
    assert by_setup["dense"]["by_kind"]["docs"]["ndcg@10"] == 1.0
    assert by_setup["dense"]["by_kind"]["symbol"]["ndcg@10"] == 0.0
    assert set(by_setup["dense"]["by_half"]) == {"tune", "held-out"}
    assert seen[-1] == ("hybrid + ranking", 3, 3)


def test_definitions_are_read_with_the_chunker(tmp_path: Path):
    (tmp_path / "retry.py").write_text("class RetryPolicy:\n    def next_delay(self):\n        return 1\n")
    (tmp_path / "README.md").write_text("# def not_code\n")
    found = questions.definitions_in(tmp_path, ["retry.py", "README.md", "missing.py"])
    assert ("RetryPolicy", "retry.py") in found and all(path == "retry.py" for _, path in found)


def test_a_collection_of_a_folder_and_a_file_is_asked_about_both(repo: Path):
    roots = [repo / "src", repo / "README.md"]
    indexed = questions.indexed_paths(roots, [], [])
    assert indexed[str(repo / "README.md")] == ["README.md"] and "cart.py" in indexed[str(repo / "src")]
    asked = questions.collection_questions(roots, indexed)
    assert {q.files for q in asked if q.kind == "behaviour"} == {("cart.py",), ("payment.py",)}


def test_questions_a_person_wrote_are_read_and_bad_lines_named(tmp_path: Path):
    indexed = {"/r": ["src/retry.py", "README.md"]}
    written = tmp_path / "mine.jsonl"
    written.write_text(
        '{"text": "How is the delay between retries chosen?", "files": ["src/retry.py"], "kind": "behaviour"}\n'
        "\n"
        '{"text": "How do I install it?", "files": ["./README.md", "docs/install.md"]}\n'
        '{"text": "Where is the cache?", "files": ["src/cache.py"]}\n'
    )
    asked, left_out = questions.load_questions(written, indexed)
    assert [(q.text, q.kind, q.files) for q in asked] == [
        ("How is the delay between retries chosen?", "behaviour", ("src/retry.py",)),
        ("How do I install it?", "question", ("README.md",)),  # kind by default; unindexed files dropped
    ]
    assert left_out == 1 and asked[1].source == "mine.jsonl:3"
    for line, message in (
        ("not json", "mine.jsonl:1: not JSON"),
        ('{"files": ["a.py"]}', 'mine.jsonl:1: "text" must be'),
        ('{"text": "where?", "files": []}', 'mine.jsonl:1: "files" must be'),
        ('["a list"]', 'mine.jsonl:1: "text" must be'),
    ):
        written.write_text(line + "\n")
        with pytest.raises(questions.UsageError, match=message.replace("?", r"\?")):
            questions.load_questions(written, indexed)
