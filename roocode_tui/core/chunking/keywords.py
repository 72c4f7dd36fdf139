"""Keyword vectors for hybrid search: BM25-style term weights over code-aware tokens.

``getUserName``, ``get_user_name`` and "user name" meet on ``get``/``user``/``name``; the
identifier is also kept whole (``getusername``) so an exact name scores highest. Documents
get saturated term frequencies (BM25's k1 and b, with a fixed average length); the store
applies IDF (Qdrant's ``Modifier.IDF``), so nothing here depends on the corpus.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

K1 = 1.2
B = 0.75
AVG_LEN = 150.0  # tokens in a typical chunk

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOP = frozenset(
    "a an and are as at be by for from has have how i in is it its of on or that the this to was "
    "what when where which who why will with do does can my we you your".split()
)
_CODE_LIKE = re.compile(r"[a-z][A-Z]|_[A-Za-z]|[A-Za-z]\.[A-Za-z]|\(\)|`|::|->|[a-z]\d")


def word_parts(ident: str) -> list[str]:
    """An identifier's words, lower case: ``getHTTPResponse2`` -> get, http, response, 2."""
    return [p.lower() for p in _PARTS.findall(ident)]


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for ident in _IDENT.findall(text):
        parts = word_parts(ident)
        parts = [p for p in parts if len(p) > 1 and p not in _STOP]
        out.extend(parts)
        whole = normalise(ident)  # get_user_name and getUserName are one name
        if len(parts) > 1 or (whole not in parts and len(whole) > 1 and whole not in _STOP):
            out.append(whole)
    return out


def normalise(name: str) -> str:
    """A name as keyword terms and definition symbols compare it: ``get_user_name``,
    ``getUserName`` -> ``getusername``."""
    return name.lower().replace("_", "")


def term_id(token: str) -> int:
    return zlib.crc32(token.encode("utf-8"))  # uint32, as Qdrant's sparse indices are


HEADING_BOOST = 3  # a chunk that defines a name outranks the chunks that merely call it


def document_vector(text: str, heading: str = "") -> tuple[list[int], list[float]]:
    counts = Counter(tokens(text))
    for tok in tokens(heading.rsplit(" > ", 1)[-1]) if heading else ():
        counts[tok] += HEADING_BOOST
    length = sum(counts.values()) or 1
    norm = K1 * (1 - B + B * length / AVG_LEN)
    weights: dict[int, float] = {}
    for tok, tf in counts.items():
        tid = term_id(tok)
        weights[tid] = weights.get(tid, 0.0) + tf * (K1 + 1) / (tf + norm)
    ids = sorted(weights)
    return ids, [round(weights[i], 4) for i in ids]


def query_vector(text: str) -> tuple[list[int], list[float]]:
    ids = sorted({term_id(t) for t in tokens(text)})
    return ids, [1.0] * len(ids)


#: In a hybrid query that names code, the weight of its prose words in the keyword lane (the
#: code it names weighs 1). "Creates a function that invokes `func` once it is called `n` times":
#: "creates", "function" and "called" match much of a code base, and a keyword lane led by them
#: outranks the dense lane's answer with look-alikes; the code a query names is what an exact
#: match is for. Prose still counts a little: where code is spelt in words (`leading_whitespace`
#: for "leading whitespace") it finds the definition too (bench/eval: JavaScript and Python).
PROSE_WEIGHT = 0.3

_TICKED = re.compile(r"`([^`]+)`")
_ID_SHAPED = re.compile(r"[a-z][A-Z]|_[A-Za-z]|[A-Za-z]\.[A-Za-z]|\(\)|::|->|[a-z]\d")


def named_code(query: str) -> list[str]:
    """The code a query names, in order: its backticked spans and its identifier-shaped words
    (camelCase, snake_case, dotted names, calls, paths); the words around them are prose."""
    spans = _TICKED.findall(query)
    spans += [w for w in _TICKED.sub(" ", query).split() if _ID_SHAPED.search(w)]
    return [s for s in spans if tokens(s)]


def named_identifiers(query: str) -> list[str]:
    """The identifiers in the code a query names, as the query spells them, in order:
    ``threading.setprofile()`` -> ``threading``, ``setprofile``."""
    return [ident for span in named_code(query) for ident in _IDENT.findall(span)]


def named_names(query: str) -> list[str]:
    """The names in the code a query names, normalised like ``symbol_of``: ``get_token`` ->
    ``gettoken``, ``threading.setprofile()`` -> ``threading``, ``setprofile``."""
    out: dict[str, None] = {}
    for ident in named_identifiers(query):
        norm = normalise(ident)
        if len(norm) > 1 and not norm.isdigit():
            out[norm] = None
    return list(out)


def spellings(names: list[str]) -> list[str]:
    """Names as a definition may spell them: Ruby's and Elixir's `blank?`, `save!`, a setter
    `name=` (``symbol_of`` keeps the mark; a query's words have none)."""
    return [f"{name}{mark}" for name in names for mark in ("", "?", "!", "=")]


def hybrid_query_vector(text: str) -> tuple[list[int], list[float]]:
    """The keyword lane's query in a hybrid search: the code the query names weighs 1, its
    prose ``PROSE_WEIGHT``; a query that names no code (a short lookup of a bare name) is
    :func:`query_vector`."""
    code = set(tokens(" ".join(named_code(text))))
    if not code:
        return query_vector(text)
    weights = {term_id(t): PROSE_WEIGHT for t in tokens(text) if t not in code}
    weights.update({term_id(t): 1.0 for t in code})
    ids = sorted(weights)
    return ids, [weights[i] for i in ids]


def looks_like_code(query: str) -> bool:
    """Whether a query names identifiers (camelCase, snake_case, dotted, calls, backticks).

    Keyword matching helps such queries and hurts natural-language ones, so hybrid search
    adds the keyword lane only for them.
    """
    return bool(_CODE_LIKE.search(query))


def symbol_of(heading: str) -> str:
    """The name a chunk defines, normalised, in every language: ``class A > def get_x`` ->
    ``getx``, ``func Frame.Format`` -> ``format``, ``impl Drop for ScopeGuard<T>`` ->
    ``scopeguard``; "" for a chunk that is no definition."""
    return normalise(definition_name(heading))


def definition_name(heading: str) -> str:
    """The name a chunk defines, as it is spelt: ``class A > def get_x`` -> ``get_x``; ""
    for a chunk that is no definition."""
    last = heading.rsplit(" > ", 1)[-1] if heading else ""
    label, _, rest = last.partition(" ")
    if not rest or label not in definition_labels():
        return ""
    name = re.sub(r"\([^)]*\)", " ", rest.split("<", 1)[0]).strip().rsplit(" ", 1)[-1]
    return re.split(r"\.|::", name)[-1]


@lru_cache(maxsize=1)
def definition_labels() -> frozenset[str]:
    """The words that open a definition's breadcrumb (``def``, ``func``, ``impl``...), loaded
    when first needed (the syntax tables are not read at start-up)."""
    from roocode_tui.core.chunking.syntax import LABELS

    return LABELS


#: Words a name lookup carries besides the name: "python glob function", "how to use quote",
#: "the quote method's source".
_LOOKUP_FILLER = frozenset(
    "function method class def fn func code python golang rust javascript typescript java ruby php "
    "kotlin swift scala lua bash shell elixir use used using usage example examples work works mean "
    "means defined definition implementation implemented source".split()
)
LOOKUP_WORDS = 3  # at most this many content words spell a name ("find longest match")


def lookup_names(query: str) -> list[str]:
    """The definition a short query looks up by name, normalised like ``symbol_of``: its
    content words joined ("what does quote do" -> ``quote``, "find longest match" ->
    ``findlongestmatch``, "python glob" -> ``glob``), or none when it has more content words
    than a name has. A web-style question ("python read file lines") names no definition
    even where ``read`` is one: its words are asked for together, and a keyword lane led by
    one of them ranks that name's look-alikes above the answer (bench/eval/packed.py)."""
    words = []
    for ident in _IDENT.findall(query):
        norm = normalise(ident)
        if norm not in _STOP and norm not in _LOOKUP_FILLER and not norm.isdigit():
            words.append(norm)
    joined = "".join(words)
    if not words or len(words) > LOOKUP_WORDS or len(joined) < 3:
        return []
    return [joined]
