"""`roocode-tui eval`, `search --explain` and `search --files` end to end, in subprocesses
with a fresh HOME, an OpenAI-compatible server on loopback and a repository with real commits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import cli
from support.repos import commit, git, make_repo

# Many commands run to their end: each forked from one process that imported the command line
# once (tests/conftest.py forked_cli)
pytestmark = pytest.mark.usefixtures("forked_cli")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def env(embed_server) -> dict[str, str]:
    return {
        "ROOCODE_TUI_EMBEDDER__PROVIDER": "openai",
        "ROOCODE_TUI_EMBEDDER__BASE_URL": embed_server.base_url,
        "ROOCODE_TUI_EMBEDDER__MODEL": embed_server.model,
    }


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "mailer-repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    make_repo(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial commit")
    text = (root / "mailer/retry.py").read_text()
    commit(root, "Cap the backoff delay between delivery retries", {"mailer/retry.py": text + "\n# capped\n"})
    text = (root / "mailer/cache.py").read_text()
    commit(root, "Drop rendered templates once their time to live passes", {"mailer/cache.py": text + "\n# ttl\n"})
    return root


def test_eval_asks_your_own_questions(home: Path, env, repo: Path, tmp_path: Path):
    assert cli("index", str(repo), "--collection", "mailer", home=home, env=env).returncode == 0
    mine = tmp_path / "mine.jsonl"
    mine.write_text(
        '{"text": "how is the delay between delivery retries chosen?", "files": ["mailer/retry.py"],'
        ' "kind": "architecture"}\n'
        '{"text": "where are expired templates dropped?", "files": ["mailer/cache.py"]}\n'
        '{"text": "where is the audit log written?", "files": ["mailer/audit.py"]}\n'
    )
    done = cli("eval", "mailer", "--ask", str(mine), "--json", home=home, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["kinds"] == {"architecture": 1, "question": 1} and report["questions_left_out"] == 1
    assert [s["setup"] for s in report["setups"]] == ["dense", "keyword", "hybrid", "hybrid + ranking"]
    table = cli("eval", "mailer", "--ask", str(mine), home=home, env=env)
    assert table.returncode == 0 and "1 questions left out: none of their files is indexed" in table.stderr
    assert "hybrid + ranking" in table.stdout
    mine.write_text('{"text": "where?"}\n')
    bad = cli("eval", "mailer", "--ask", str(mine), home=home, env=env)
    assert bad.returncode != 0 and f'{mine}:1: "files" must be' in bad.stderr and "Traceback" not in bad.stderr


def test_eval_scores_each_setup_on_the_repositorys_own_history(
    home: Path, env, repo: Path, tmp_path: Path, embed_server
):
    assert cli("index", str(repo), "--collection", "mailer", home=home, env=env).returncode == 0
    listed = tmp_path / "questions.jsonl"
    done = cli("eval", "mailer", "--json", "--questions", str(listed), home=home, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["collection"] == "mailer" and report["kinds"]["behaviour"] == 2 and report["kinds"]["symbol"] >= 3
    assert [s["setup"] for s in report["setups"]] == ["dense", "keyword", "hybrid", "hybrid + ranking"]
    assert embed_server.reranks == 0
    for setup in report["setups"]:
        assert 0.0 <= setup["ndcg@10"] <= 1.0 and set(setup["by_half"]) == {"tune", "held-out"}
        assert set(setup["by_kind"]) == {"behaviour", "symbol"}
    asked = [json.loads(line) for line in listed.read_text().splitlines()]
    assert {"text": "Drop rendered templates once their time to live passes", "kind": "behaviour"}.items() <= asked[
        0
    ].items()
    assert asked[0]["files"] == ["mailer/cache.py"] and asked[1]["files"] == ["mailer/retry.py"]  # newest first
    assert {q["kind"] for q in asked[2:]} == {"symbol"} and all(q["half"] in ("tune", "held-out") for q in asked)

    # with a reranker configured, both hybrids are scored through it as well (stack on and off)
    reranked = {**env, "ROOCODE_TUI_RERANKER__ENABLED": "true", "ROOCODE_TUI_RERANKER__BASE_URL": embed_server.base_url}
    table = cli("eval", "mailer", home=home, env=reranked)
    assert table.returncode == 0, table.stderr
    rows = [line.split()[0:6] for line in table.stdout.splitlines()]
    assert "hybrid + ranking + reranker" in table.stdout and "hybrid + reranker" in table.stdout
    assert "held-out" in table.stdout and ["hybrid", "+", "ranking", "+", "reranker"] in [r[:5] for r in rows]
    assert "questions (2 behaviour" in table.stderr
    assert embed_server.reranks == 2 * len(asked)  # once per question in each of the two reranked setups


def test_eval_says_what_is_missing(home: Path, env, tmp_path: Path):
    empty = tmp_path / "notes"
    empty.mkdir()
    (empty / "a.md").write_text("# Notes\n\nNothing defined here at all, just prose about things.\n")
    assert cli("index", str(empty), "--collection", "notes", home=home, env=env).returncode == 0
    refused = cli("eval", "notes", home=home, env=env)
    assert refused.returncode == 2 and "no questions for 'notes'" in refused.stderr
    missing = cli("eval", "nope", home=home, env=env)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_search_explains_and_answers_with_files(home: Path, env, repo: Path):
    assert cli("index", str(repo), "--collection", "mailer", home=home, env=env).returncode == 0
    shown = cli("search", "parse_mailer_settings", "-c", "mailer", "--explain", "-n", "3", home=home, env=env)
    assert shown.returncode == 0, shown.stderr
    first_hit = shown.stdout.split("\n")[:2]
    assert "mailer/config.py" in first_hit[0]
    assert first_hit[1].strip().startswith("why: symbol · dense #") and "+definition" in first_hit[1]

    data = json.loads(
        cli("search", "parse_mailer_settings", "-c", "mailer", "--explain", "--json", home=home, env=env).stdout
    )
    explain = data["results"][0]["explain"]
    assert explain["kind"] == "symbol" and explain["boosts"]["definition"] > 0 and "rank_score" in explain
    plain = json.loads(cli("search", "parse_mailer_settings", "-c", "mailer", "--json", home=home, env=env).stdout)
    assert "explain" not in plain["results"][0] and "files" not in plain

    files = json.loads(
        cli(
            "search", "mailer settings and delivery", "-c", "mailer", "--files", "-n", "3", "--json", home=home, env=env
        ).stdout
    )
    paths = [f["path"] for f in files["files"]]
    assert len(paths) == len(set(paths)) == 3
    assert all(1 <= len(f["chunks"]) <= 3 and f["chunks"][0]["path"] == f["path"] for f in files["files"])
    human = cli("search", "mailer settings and delivery", "-c", "mailer", "--files", "-n", "3", home=home, env=env)
    assert human.returncode == 0 and "3 files from mailer" in human.stdout

    unranked = cli(
        "search", "parse_mailer_settings", "-c", "mailer", "--no-ranking", "--explain", "--json", home=home, env=env
    )
    assert "explain" not in json.loads(unranked.stdout)["results"][0]
