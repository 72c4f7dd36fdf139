"""The ranking stack: candidates from every lane, ranked by what a repository knows.

A store ranks chunks one by one. A person asking a repository a question wants the code that
answers it, and a repository says more than one chunk does: which file defines a name, which
file's name is the question's topic, which file has several chunks on the topic, which files
are tests, vendored or generated. The stack takes each lane's candidates (dense, keyword, and
for a name the definitions of that name), wider than the results asked for, and scores them:

1. **Fusion**: ``alpha * dense + (1 - alpha) * keyword``, each lane's scores scaled to 0..1
   over the candidates; alpha by the query's kind (``query_kind``): low for a name (the
   keyword lane matches it exactly), 0.6 for a question asked, 0.8 for other text (a doc
   comment's sentence is what the dense lane is for).
2. **File coherence**: a file with several good candidates lifts its best chunk.
3. **Definition**: a chunk that defines the name a query asks for (or names in passing: then
   only code, spelt alike, and in text other than a question only the name it opens with, a
   Go doc comment's first word whatever its shape) is lifted above the chunks that use it.
4. **Path**: the words of a query that is not a name, where they name a file or its folder,
   lift that file's chunks.
5. **Penalties**: tests, examples, vendored, generated and minified files, changelogs, CI
   settings, declaration files and fragments (a few lines that define nothing) go down
   unless the query asks for them; docs go down below code for a question about code (not
   one about using the project).
6. **One file, one place**: for a question or a name, each further chunk of a file already
   ranked counts ``DECAY`` (by the query's kind) times as much again, so a close second file
   goes before a third chunk of the first.

Every step's effect is kept per hit (``Hit.explain``) for ``search --explain`` and the TUI.
The constants are measured on whole-repository questions mined from real histories, a
tuning half and a held-out half (bench/eval/repos.py, bench/RESULTS.md).
"""

from __future__ import annotations

import dataclasses
import heapq
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import PurePosixPath

from roocode_tui.core.chunking.keywords import definition_name, named_identifiers, normalise, symbol_of, word_parts
from roocode_tui.core.stores.base import Hit

#: "minmax": each lane's scores scaled to 0..1 over the candidates, then weighted by alpha;
#: "rrf": weighted reciprocal ranks (flat: a rank-1 and a rank-20 chunk differ by a quarter,
#: so the file signals below swamped the lanes' evidence: chunk-level evals lost 0.08-0.19)
FUSION = "minmax"
RRF_K = 60
ALPHA = {"symbol": 0.3, "question": 0.6, "text": 0.8}  # the dense lane's weight
COHERENCE = 0.1  # x the best score, x a file's share of the best file's summed score
DEFINITION = 3.0  # x the best score, for a chunk defining the name a symbol query asks for
DEFINITION_STEM = 1.5  # more when the file is named after it
NAMED_DEFINITION = 0.5  # the definition of a name a question mentions: this share of DEFINITION
PATH = 0.5  # x the best score x the share of a query's words that name the file or folder
PATH_MIN = 0.1
#: each further chunk of an already-ranked file, by the query's kind: a question asked wants
#: places more than one chunk; text (a doc comment's sentence, a description) wants the chunk
#: it describes, often the second-best of its file (bench/eval/ablate.py --chunks)
DECAY = {"symbol": 0.7, "question": 0.5, "text": 1.0}
FILES_DECAY = 0.7  # at most this for a search grouped into files: it asks for places
FILE_FREE = 1  # chunks of a file ranked before the decay starts
PENALTIES = {  # multiplied; several apply together
    "test": 0.3,
    "example": 0.3,
    "vendored": 0.3,
    "generated": 0.3,
    "initialiser": 1.0,
    "declarations": 0.7,
    "changelog": 0.3,
    "docs": 0.5,
    "ci": 0.5,  # continuous integration's settings: .github/workflows/, .gitlab-ci.yml...
    "fragment": 0.7,  # a few lines of code that define nothing: imports, a package header
}
FRAGMENT_LINES = 8

_SYMBOL_QUERY = re.compile(
    r"^(?:[A-Za-z_][\w$]*(?:(?:::|\\|->|\.)[A-Za-z_][\w$]*)+"  # qualified: a.b, A::B, a->b
    r"|_[\w$]+"  # _private
    r"|[A-Za-z][A-Za-z0-9]*[A-Z_][\w]*"  # camelCase, snake_case, PascalCase with a later capital
    r"|[A-Z][A-Za-z0-9]*)\(?\)?[?!=]?$"  # Pascal
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_STOP = frozenset(
    "a an and are as at be by can do does for from get has have how i if in is it its me my "
    "of on or should that the their then there these this to use used using was we what when where "
    "which who why will with you your code file files function functions method class implement "
    "implemented implementation handle handles handled work works".split()
)
_TEST = re.compile(
    r"(^|/)(tests?|__tests__|spec|specs|testing|testdata|test_data|fixtures|e2e|benchmarks?)/"
    r"|(^|/)(test_[^/]*|[^/]*_tests?\.[a-z]+|[^/]*_spec\.rb|conftest\.py|(?<!commands/)(?<!cmd/)tests?\.[a-z]+)$"
    r"|\.(test|spec)\.[a-z]+$|[a-z0-9]Tests?\.[a-z]+$|(^|/)Test[A-Z][^/]*$|\.feature$"  # Cucumber's too
)
_EXAMPLE = re.compile(r"(^|/)(_?examples?|samples?|demos?|docs?_src|compat|_compat|legacy)/", re.I)
_VENDORED = re.compile(r"(^|/)(vendor|third[_-]party|node_modules|external|deps|bower_components)/", re.I)
_GENERATED = re.compile(
    r"\.min\.(js|css)$|[._-]generated\.|_pb2(_grpc)?\.py$|\.pb\.(go|cc|h)$|(^|/)(gen|generated|dist)/|\.g\.dart$",
    re.I,
)
_INITIALISER = re.compile(r"(^|/)(__init__\.py|package-info\.java|mod\.rs|index\.(js|ts))$")
_DECLARATIONS = re.compile(r"\.d\.ts$")
_DOCS = re.compile(r"\.(md|markdown|mdx|rst|txt|adoc)$", re.I)
_CI = re.compile(
    r"(^|/)\.github/(workflows|actions)/|(^|/)\.(gitlab|circleci|buildkite|azure-pipelines)/"
    r"|(^|/)(\.?gitlab-ci|\.travis|\.?azure-pipelines|\.?appveyor|\.cirrus|\.drone|bitbucket-pipelines)\.ya?ml$"
    r"|(^|/)Jenkinsfile(\.[^/]*)?$",
    re.I,
)
#: files of settings and data: a key there is not the definition a question names in passing
_DATA = re.compile(r"\.(ya?ml|json|jsonc|toml|ini|cfg|conf|xml|lock|properties|env)$", re.I)
_CHANGELOG = re.compile(
    r"(^|/)(change_?log|changes|history|news|release[-_]?notes|releases)(\.[a-z]+)?$|(^|/)changelogs?/", re.I
)
#: a question about using the project ("how do I install...", "can we...?", "how to...?"): its
#: docs answer it. At a clause's start only: "where can I find the retry logic?" asks for code.
_USAGE = re.compile(
    r"(^|[;:,.]\s+)((and|or|but|so)\s+)?((how|what)\s+)?(do|can|could|should|would|must|may|shall)\s+(i|we|you)\b(?!/)"
    r"|^how[- ]to\b|^is there a way\b|\bi['\u2019]m\b|\bi am\b",
    re.I,
)
#: a question's first word; not "how to ...", a web search's phrase ("python how to sort a dict")
_ASKED = re.compile(r"(how\b(?!\s+to\b)|(where|what|which|why|who)\b)", re.I)
#: quotes and brackets around a query
_QUOTES = "`'\"\u201c\u201d\u2018\u2019()[] "
_ASKS = {
    "test": re.compile(r"\b(tests?|testing|spec|specs|unit ?tests?|fixtures?)\b", re.I),
    "example": re.compile(r"\b(examples?|samples?|demos?|legacy|compat\w*)\b", re.I),
    "vendored": re.compile(r"\b(vendor\w*|third[- ]party|dependenc\w+)\b", re.I),
    "generated": re.compile(r"\b(generated|minified|protobuf|bundle)\b", re.I),
    "docs": re.compile(r"\b(docs?|documentation|readme|guide|tutorial|changelog|markdown|explain\w*)\b", re.I),
    "ci": re.compile(r"\b(ci|workflows?|github actions?|pipelines?|continuous integration)\b", re.I),
    "changelog": re.compile(r"\b(change ?log|changes|history|news|release notes?|released?|version \d)", re.I),
}


def query_kind(query: str) -> str:
    """``symbol``: the query is a name (``Blueprint``, ``add_url_rule``, ``http.Get``);
    ``question``: a question asked ("how are retries timed?", "where is the config parsed");
    ``text``: any other text (a description, a commit subject, a doc comment's sentence)."""
    text = query.strip().strip(_QUOTES)
    if _SYMBOL_QUERY.match(text):
        return "symbol"
    if _ASKED.match(text) or (text.endswith(("?", "\uff1f")) and " " in text):
        return "question"
    return "text"


def split_words(text: str) -> list[str]:
    """``HTTPResponse_parser`` -> ``http``, ``response``, ``parser``."""
    return [p for ident in _WORD.findall(text.replace("_", " ")) for p in word_parts(ident)]


def keywords(query: str) -> list[str]:
    """A query's content words, as they are compared with file and folder names."""
    return list(dict.fromkeys(stem(w) for w in split_words(query) if len(w) > 2 and w not in _STOP))


def stem(word: str) -> str:
    """A light stem, so "retries" meets ``retry.py`` and "parsing" meets ``parser``:
    plural and verb endings off."""
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ers", ""), ("er", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            return word[: -len(suffix)] + repl
    return word


_KINDS_OF_FILE = (
    ("test", _TEST),
    ("example", _EXAMPLE),
    ("vendored", _VENDORED),
    ("generated", _GENERATED),
    ("initialiser", _INITIALISER),
    ("declarations", _DECLARATIONS),
    ("changelog", _CHANGELOG),
    ("docs", _DOCS),
    ("ci", _CI),
)


@lru_cache(maxsize=65536)
def kinds_of_file(path: str) -> tuple[str, ...]:
    """What a file is, for the penalties: ``test``, ``vendored``, ``docs``... (a changelog is
    not also docs)."""
    found = tuple(name for name, pattern in _KINDS_OF_FILE if pattern.search(path))
    if "changelog" in found:
        return tuple(k for k in found if k != "docs")
    return tuple(k for k in found if k != "ci") if "docs" in found else found  # a workflow's README is docs


def asked_for(query: str) -> frozenset[str]:
    """The kinds of file a query asks for (they take no penalty): "tests of ...", "the docs on ..."."""
    return frozenset(name for name, pattern in _ASKS.items() if pattern.search(query))


def penalties(path: str, asked: frozenset[str], code_question: bool) -> dict[str, float]:
    """The penalties a file's chunks take for a query that asks for the kinds ``asked``
    (``asked_for``); docs only for a question about code."""
    return {
        kind: PENALTIES[kind]
        for kind in kinds_of_file(path)
        if kind not in asked and PENALTIES[kind] != 1.0 and (kind != "docs" or code_question)
    }


@lru_cache(maxsize=65536)
def path_words(path: str) -> frozenset[str]:
    """A file's stem and its folder's name as stemmed words: ``src/http_retry/Backoff.ts`` ->
    http, retry, backoff."""
    p = PurePosixPath(path)
    return frozenset(stem(w) for w in (*split_words(p.stem), *split_words(p.parent.name)))


@dataclass
class _Candidate:
    hit: Hit
    dense: tuple[int, float] | None = None  # (rank, cosine)
    keyword: tuple[int, float] | None = None  # (rank, keyword score)
    definition: bool = False  # came from the definitions of the name asked for
    score: float = 0.0
    boosts: dict[str, float] = field(default_factory=dict)


def _stem_matches(word: str, parts: frozenset[str]) -> bool:
    if word in parts:
        return True
    for part in parts:
        short, long = (word, part) if len(word) <= len(part) else (part, word)
        if len(short) >= 3 and long.startswith(short):
            return True
    return False


def depth(limit: int) -> int:
    """How many candidates each lane gives the stack."""
    return max(limit * 5, 50)


DEFINITIONS = 10  # candidates from the definitions of the name a query asks for


def rank(
    query: str,
    dense: Sequence[Hit],
    keyword: Sequence[Hit],
    limit: int,
    *,
    definitions: Sequence[Hit] = (),
    asked: frozenset[str] = frozenset(),
    named: frozenset[str] = frozenset(),
    explain: bool = False,
    places: bool = False,
) -> list[Hit]:
    """The top ``limit`` of the lanes' candidates (each lane best first), scored by the stack.

    ``definitions``: chunks that define a name the query asks for (they join as candidates
    even where neither lane found them); ``asked``: the normalised names the query asks for
    (a name, or a short lookup: "what does quote do"); ``named``: the names a question
    mentions in passing that this collection defines; ``places``: the results are grouped into
    files, so text is spread over files as a name is (``FILES_DECAY``)."""
    kind = query_kind(query)
    alpha = ALPHA[kind]
    named = in_passing(query, named, kind)
    pool: dict[str, _Candidate] = {}
    for lane, hits in (("dense", dense), ("keyword", keyword)):
        for position, hit in enumerate(hits):
            cand = pool.setdefault(hit.id, _Candidate(hit))
            setattr(cand, lane, (position + 1, hit.score))
    for hit in definitions:
        pool.setdefault(hit.id, _Candidate(hit)).definition = True
    if not pool:
        return []
    if FUSION == "minmax":
        dense_scores = [c.dense[1] for c in pool.values() if c.dense is not None]
        low, high = (min(dense_scores), max(dense_scores)) if dense_scores else (0.0, 1.0)
        spread = (high - low) or 1.0
        best_keyword = max((c.keyword[1] for c in pool.values() if c.keyword is not None), default=1.0) or 1.0
    for cand in pool.values():
        fused = 0.0
        if FUSION == "minmax":
            if cand.dense is not None:
                fused += alpha * (cand.dense[1] - low) / spread
            if cand.keyword is not None:
                fused += (1 - alpha) * cand.keyword[1] / best_keyword
        else:
            if cand.dense is not None:
                fused += alpha / (RRF_K + cand.dense[0])
            if cand.keyword is not None:
                fused += (1 - alpha) / (RRF_K + cand.keyword[0])
        cand.score = fused
    top = max(c.score for c in pool.values()) or 1.0 / RRF_K
    # 2. file coherence: a file's best chunk gains with the file's summed scores
    by_file: dict[tuple[str, str], list[_Candidate]] = {}
    for cand in pool.values():
        by_file.setdefault((cand.hit.root, cand.hit.path), []).append(cand)
    sums = {key: sum(c.score for c in group) for key, group in by_file.items()}
    best_sum = max(sums.values()) or 1.0
    for key, group in by_file.items():
        if len(group) > 1:
            best = max(group, key=lambda c: c.score)
            _boost(best, "file", COHERENCE * top * sums[key] / best_sum)
    # 3. definitions of the name asked for (or named in passing)
    spelt = _spelt(query) if named and NAMED_CASE else {}
    # a plain first word is a name only by Go's convention (``subject_names``)
    word_only = subject_names(query, kind) - {normalise(i) for i in named_identifiers(query)} if named else frozenset()
    for wanted, share in ((asked, 1.0), (named, NAMED_DEFINITION)):
        if not wanted:
            continue
        wanted = frozenset(n.rstrip("?!=") for n in wanted)  # Ruby's blank?, save!, name=
        matched: list[tuple[_Candidate, set[str], bool]] = []  # (candidate, names it defines, a prototype)
        for cand in pool.values():
            if share != 1.0 and NAMED_CODE_ONLY and _DATA.search(cand.hit.path):
                continue  # a key of a settings file is not the definition a question names
            own = _named_definition(cand.hit.heading, spelt) if share != 1.0 and NAMED_CASE else None
            if own is not None:
                defined = own
            else:  # a name asked for; or a run of small definitions merged (names kept normalised)
                defined = {s.rstrip("?!=") for s in (cand.hit.symbols or (symbol_of(cand.hit.heading),))}
            hit_names = wanted & defined
            if hit_names and share != 1.0 and hit_names <= word_only and cand.hit.language not in SUBJECT_LANGUAGES:
                continue
            if hit_names:
                matched.append((cand, hit_names, _prototype(cand.hit)))
        # definition over declaration: a C prototype takes no lift for a name whose body is here
        bodies = {n for _, names, proto in matched if not proto for n in names}
        for cand, hit_names, proto in matched:
            if PROTOTYPES and proto and hit_names <= bodies:
                continue
            amount = DEFINITION * share * top
            file_stem = normalise(PurePosixPath(cand.hit.path).stem)
            if any(file_stem in (n, n + "s", n.rstrip("s")) for n in hit_names):
                amount *= DEFINITION_STEM
            _boost(cand, "definition", amount)
    # 4. the words of a query that is not a name, naming the file or its folder
    if kind != "symbol":
        words = keywords(query)
        if words:
            for (_, path), group in by_file.items():
                parts = path_words(path)
                matched = sum(1 for w in words if _stem_matches(w, parts))
                ratio = matched / len(words)
                if ratio >= PATH_MIN:
                    for cand in group:
                        _boost(cand, "path", PATH * top * ratio)
    # 5. penalties; docs only for a question about code (not about using the project), and only
    # where code is among the candidates: a docs collection's order stays
    code_question = (
        kind == "question"
        and not (USAGE and _USAGE.search(query))
        and any("docs" not in kinds_of_file(c.hit.path) for c in pool.values())
    )
    asked_kinds = asked_for(query)
    for cand in pool.values():
        found = penalties(cand.hit.path, asked_kinds, code_question)
        if PENALTIES["fragment"] != 1.0 and _fragment(cand.hit):
            found["fragment"] = PENALTIES["fragment"]
        for name, factor in found.items():
            before = cand.score
            cand.score *= factor
            cand.boosts[name] = cand.score - before
    # 6. one file, one place: greedy, each further chunk of a ranked file decays (a heap of
    # candidates whose decayed score is recomputed when their file gained a chunk since)
    decay = min(DECAY[kind], FILES_DECAY) if places else DECAY[kind]
    seen: dict[tuple[str, str], int] = {}
    heap = [(-c.score, c.hit.root, c.hit.path, c.hit.start_line, c.hit.id, 0, n) for n, c in enumerate(pool.values())]
    heapq.heapify(heap)
    cands = list(pool.values())
    chosen: list[_Candidate] = []
    while heap and len(chosen) < limit:
        entry = heapq.heappop(heap)
        cand = cands[entry[6]]
        key = (cand.hit.root, cand.hit.path)
        count = seen.get(key, 0)
        if entry[5] != count and decay != 1.0:  # its file gained a chunk since: decay it, look again
            decayed = cand.score * decay ** max(0, count - FILE_FREE + 1)
            heapq.heappush(heap, (-decayed, *entry[1:5], count, entry[6]))
            continue
        if count >= FILE_FREE and decay != 1.0:
            cand.boosts["same file"] = -entry[0] - cand.score
            cand.score = -entry[0]
        seen[key] = count + 1
        chosen.append(cand)
    return [_out(c, kind, alpha, explain) for c in chosen]


#: Definitions that add to a type defined elsewhere (Rust's ``impl X``, Swift's ``extension X``):
#: a question that names ``X`` in passing is not asking for them.
ATTACHMENTS = frozenset({"impl", "extension"})
NAMED_CASE = True  # off: a name named in passing matches as a name asked for does
USAGE = True  # off: a question about using the project counts as one about code
NAMED_CODE_ONLY = True  # off: a key of a settings file counts as a definition a question names
PROTOTYPES = True  # off: a C prototype is lifted as the definition with its body is
#: off: text (not a question) lifts the definition of any name it mentions, not only the one it
#: opens with (``in_passing``)
NAMED_LEAD = True
_LEAD = re.compile(r"[A-Za-z_$][\w$]*")  # the identifiers of a query's first word


def in_passing(query: str, named: frozenset[str] | set[str], kind: str | None = None) -> frozenset[str]:
    """The names a query mentions in passing (``named``, normalised) whose definitions it is
    about. A question: all of them ("How does `cJSON_Minify` treat comments?"). Other text,
    such as a doc comment's sentence or a commit subject: only the names of its first word, its
    subject (Go's "TrimLeftFunc returns...", C's "ZSTD_compress() : ...", "`Either::flip`
    swaps..."); a name further in is what the answer works with, its argument, its type or a
    sibling ("Convert `Either<L, R>` to `Either<R, L>`" is answered by ``fn flip``, not by
    ``enum Either``). Measured on every chunk-level evaluation, each half (bench/RESULTS.md)."""
    if not named:
        return frozenset()
    kind = kind or query_kind(query)
    if kind != "text" or not NAMED_LEAD:
        return frozenset(named)
    return frozenset(named) & {normalise(ident) for ident in _LEAD.findall(_first_word(query))}


def _first_word(query: str) -> str:
    return query.split(None, 1)[0] if query.strip() else ""


#: off: a doc comment's first word counts as a name only where it is shaped like code
SUBJECT_WORD = True
#: the languages whose doc comments open with the name they document, whatever its shape
SUBJECT_LANGUAGES = frozenset({"go"})
_PLAIN_WORD = re.compile(r"[A-Za-z][a-z0-9]+[.,:;]?")


def subject_names(query: str, kind: str | None = None) -> frozenset[str]:
    """The plain word text (not a question) opens with, normalised, as a name it may mention:
    Go's doc comments open with the name they document whatever its shape ("Marshal returns
    the JSON encoding of v.", "readRune reads..."), which need not look like code. Only a Go
    definition takes it (``SUBJECT_LANGUAGES``): elsewhere such a word is a verb, and a type
    spelt alike ("Groups elements from the `GroupingMap`..." and Rust's ``struct Groups``) is
    not the answer. The searcher keeps it only where the collection defines it, and the
    definition must be spelt with the same case at its start (``_named_definition``)."""
    word = _first_word(query)
    if not SUBJECT_WORD or not _PLAIN_WORD.fullmatch(word) or (kind or query_kind(query)) != "text":
        return frozenset()
    return frozenset({normalise(word.rstrip(".,:;"))})


def _spelt(query: str) -> dict[str, set[bool]]:
    """The names in the code a query names, normalised, each with whether the query spells it
    with a capital first (``Either``, ``Right``: a type, a variant, Go's exported ``Fields``)."""
    out: dict[str, set[bool]] = {}
    for ident in (*named_identifiers(query), *_LEAD.findall(_first_word(query))):
        out.setdefault(normalise(ident), set()).add(ident[:1].isupper())
    return out


def _named_definition(heading: str, spelt: dict[str, set[bool]]) -> set[str] | None:
    """The name a chunk's own definition (its heading's) has, where a question that names it
    in passing (``spelt``) means this definition: not an ``impl``/``extension`` of a type
    defined elsewhere, and spelt with the same case at its start (``Either`` is not
    ``fn either``, a variant ``Right`` not ``fn right``; Go's ``TrimLeftFunc`` is
    ``func TrimLeftFunc``). Measured: Go +0.007, Rust +0.006 MRR@10 (bench/eval/langs.py),
    whole-repository questions +0.001 (bench/RESULTS.md). None where the heading defines
    nothing (a run of small definitions merged keeps only their names, normalised)."""
    name = definition_name(heading)
    if not name:
        return None
    label = heading.rsplit(" > ", 1)[-1].split(" ", 1)[0]
    if label in ATTACHMENTS:
        return set()
    norm = normalise(name).rstrip("?!=")
    cases = spelt.get(norm)
    if cases is None or name[:1].isupper() not in cases:
        return set()
    return {norm}


def _prototype(hit: Hit) -> bool:
    """A C/C++ chunk of declarations only (a header's prototypes): no body in it."""
    return hit.language in ("c", "cpp") and "{" not in hit.text


def _fragment(hit: Hit) -> bool:
    """A few lines of code that define nothing (imports, a package clause, a module's docstring)."""
    return (
        hit.end_line - hit.start_line < FRAGMENT_LINES
        and not hit.symbols
        and not symbol_of(hit.heading)
        and "docs" not in kinds_of_file(hit.path)
    )


def _boost(cand: _Candidate, name: str, amount: float) -> None:
    cand.score += amount
    cand.boosts[name] = cand.boosts.get(name, 0.0) + amount


def query_names(query: str) -> set[str]:
    """The names a symbol query asks for: the last part of a qualified name, and the whole."""
    text = query.strip().strip("`").rstrip("()")
    parts = [p for p in re.split(r"::|\\|->|\.", text) if p]
    names = {normalise(parts[-1])} if parts else set()
    names.add(normalise(re.sub(r"::|\\|->|\.", "", text)))
    return {n for n in names if n}


def _out(cand: _Candidate, kind: str, alpha: float, explain: bool) -> Hit:
    if not explain:
        return cand.hit
    lanes: dict[str, object] = {"kind": kind, "alpha": alpha}
    if cand.dense is not None:
        lanes["dense"] = {"rank": cand.dense[0], "score": round(cand.dense[1], 6)}
    if cand.keyword is not None:
        lanes["keyword"] = {"rank": cand.keyword[0], "score": round(cand.keyword[1], 6)}
    if cand.definition:
        lanes["definitions_lane"] = True
    boosts = {k: round(v, 6) for k, v in cand.boosts.items()}
    return dataclasses.replace(cand.hit, explain={**lanes, "boosts": boosts, "rank_score": round(cand.score, 6)})
