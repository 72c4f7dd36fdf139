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


def tokens(text: str) -> list[str]:
    out: list[str] = []
    for ident in _IDENT.findall(text):
        parts = [p.lower() for p in _PARTS.findall(ident)]
        parts = [p for p in parts if len(p) > 1 and p not in _STOP]
        out.extend(parts)
        whole = ident.lower().replace("_", "")  # get_user_name and getUserName are one name
        if len(parts) > 1 or (whole not in parts and len(whole) > 1 and whole not in _STOP):
            out.append(whole)
    return out


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


def looks_like_code(query: str) -> bool:
    """Whether a query names identifiers (camelCase, snake_case, dotted, calls, backticks).

    Keyword matching helps such queries and hurts natural-language ones, so hybrid search
    adds the keyword lane only for them.
    """
    return bool(_CODE_LIKE.search(query))


def symbol_of(heading: str) -> str:
    """The name a chunk defines, normalised (``class A > def get_x`` -> ``getx``), or ""."""
    last = heading.rsplit(" > ", 1)[-1] if heading else ""
    if not last.startswith(("def ", "class ")):
        return ""
    return last.split(" ", 1)[1].lower().replace("_", "")


def candidate_symbols(query: str) -> list[str]:
    """Query words that could name a definition (normalised like ``symbol_of``)."""
    out = []
    for ident in _IDENT.findall(query):
        norm = ident.lower().replace("_", "")
        if len(norm) >= 3 and norm not in _STOP and not norm.isdigit():
            out.append(norm)
    return sorted(set(out))
