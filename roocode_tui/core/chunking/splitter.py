"""Split a file's text into chunks with exact 1-based line ranges.

Markdown is cut at its headings first (each section keeps its heading breadcrumb), then any
section larger than the chunk size is split further; code uses langchain's language-aware
separators; anything else the generic recursive splitter. Sizes are in estimated tokens.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from roocode_tui.core.chunking.keywords import definition_labels, symbol_of
from roocode_tui.core.files.languages import LANGCHAIN_LANGUAGES

#: The version of the chunking rules. A collection cut by other rules is cut again by its next
#: full run (a chunk whose text did not change keeps its id and vector).
#: 2: code in every language by its syntax tree (was: Python only).
#: 3: overloads merged, per-language merge thresholds, a merged chunk's header names its definitions.
#: 4: Python merges nothing: every definition, and every run of statements between them, is a chunk.
#: 5: every chunk's payload ``symbol`` names its definition in every language (was: Python only).
#: 6: C/C++ prototypes (a header's API) are definitions, with a Doxygen comment a blank line above.
CHUNKER = "6"
SYMBOLS_SINCE = 5  # collections cut by rules this new or newer know every definition's name


def rules_version(chunker: str) -> int:
    """A collection's ``chunker`` as a number (0: before the rules were versioned)."""
    return int(chunker) if chunker.isdigit() else 0


#: Definitions smaller than this share of a chunk join their neighbours, per language (default a
#: sixth, measured on Go). Rust's and TypeScript's units are small (a struct, an impl of two
#: lines, an overload signature): they read better with their neighbours. Python's read better
#: alone: a one-line function merged with its neighbour, or a function with the imports above it,
#: is found less often than the function by itself (bench/eval: run.py and packed.py).
MERGE_BELOW = {"rust": 1 / 2, "typescript": 1 / 2, "tsx": 1 / 2, "python": 0}


@dataclass(frozen=True, slots=True)
class Chunk:
    index: int
    start_line: int  # 1-based, inclusive
    end_line: int  # 1-based, inclusive
    text: str  # exactly as it appears in the (newline-normalised) file
    heading: str  # "Title > Section > Subsection", or ""
    embed_input: str  # what the embedder sees: a short context header plus the text
    chunk_hash: str  # hash of embed_input: same hash, same vector
    tokens: int  # estimate for embed_input
    #: the names (normalised, ``sparse.symbol_of``) of the definitions a chunk of merged
    #: neighbours holds; a chunk of one definition is named by its heading
    symbols: tuple[str, ...] = ()


def estimate_tokens(text: str) -> int:
    """A cheap token estimate (BPE tokenizers average 3-4 characters a token on code and prose)."""
    return len(text) * 2 // 7 + 1


_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def humanize(symbol: str) -> str:
    """``def find_longest_match`` -> ``find longest match``, ``impl Drop for Guard<T, F>`` ->
    ``guard``: names in words a model reads."""
    name = symbol.split("<", 1)[0].rstrip().rsplit(" ", 1)[-1]
    return " ".join(w.lower() for w in _WORDS.findall(name))


def context_header(path: str, heading: str, code: bool = False, names: tuple[str, ...] = ()) -> str:
    """``path > heading`` above the chunk; a code definition's name also in words. ``names``:
    the definitions a chunk of merged neighbours holds, each also in words."""
    if names:
        head = f"{path} > {heading}" if heading else path
        words = "; ".join(dict.fromkeys(humanize(n) for n in names))
        return f"{head} > {', '.join(names)} ({words})\n\n"
    if not heading:
        return f"{path}\n\n"
    last = heading.rsplit(" > ", 1)[-1]
    if code and last.split(" ", 1)[0] in definition_labels():
        return f"{path} > {heading} ({humanize(last)})\n\n"
    return f"{path} > {heading}\n\n"


def chunk_hash(embed_input: str) -> str:
    return hashlib.blake2b(embed_input.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@lru_cache(maxsize=64)
def _splitter(language: str | None, chunk_tokens: int, overlap_tokens: int) -> Callable[[str], list[str]]:
    from langchain_text_splitters import Language, RecursiveCharacterTextSplitter

    # No overlap inside the splitter: pieces must tile the text so that their offsets are
    # exact. Overlap is added afterwards as whole lines (see _with_overlap).
    kwargs = {
        "chunk_size": max(16, chunk_tokens - overlap_tokens),
        "chunk_overlap": 0,
        "length_function": estimate_tokens,
        "strip_whitespace": True,
    }
    if language is not None:
        splitter = RecursiveCharacterTextSplitter.from_language(Language(language), **kwargs)
    else:
        splitter = RecursiveCharacterTextSplitter(**kwargs)
    return splitter.split_text


def _locate(text: str, pieces: Iterable[str], base: int = 0) -> list[tuple[int, str]]:
    """Offsets of non-overlapping pieces in text, in order.

    The splitter runs without overlap and only strips whitespace, so between two pieces there
    is whitespace alone: the first match at or after the previous piece's end is the piece.
    """
    out: list[tuple[int, str]] = []
    pos = 0
    for piece in pieces:
        if not piece:
            continue
        at = text.find(piece, pos)
        if at < 0:  # the splitter changed the text; should not happen with strip-only splitters
            continue
        out.append((base + at, piece))
        pos = at + len(piece)
    return out


def _with_overlap(text: str, spans: list[tuple[int, str, str]], overlap_tokens: int) -> list[tuple[int, str, str]]:
    """Repeat the last whole lines of the previous chunk where a split cut a block in two.

    A split that falls on a blank line (between paragraphs, functions, sections) needs no
    overlap; one inside a block gets up to ``overlap_tokens`` of the lines before it.
    """
    if overlap_tokens <= 0 or len(spans) < 2:
        return spans
    out = [spans[0]]
    for (prev_at, prev_piece, prev_heading), (at, piece, heading) in zip(spans, spans[1:], strict=False):
        gap = text[prev_at + len(prev_piece) : at]
        if gap.count("\n") >= 2 or heading != prev_heading:
            out.append((at, piece, heading))
            continue
        line_start = text.rfind("\n", 0, at) + 1
        start = line_start
        budget = overlap_tokens
        while start > prev_at:
            prev_line = text.rfind("\n", 0, start - 1) + 1
            cost = estimate_tokens(text[prev_line:start])
            if cost > budget or prev_line < prev_at:
                break
            budget -= cost
            start = prev_line
        if start < line_start:
            while start < at and text[start] in " \t\n":
                start += 1
            end = at + len(piece)
            out.append((start, text[start:end], heading))
        else:
            out.append((at, piece, heading))
    return out


_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")


def markdown_sections(text: str) -> list[tuple[int, int, str]]:
    """Return (start, end, breadcrumb) character spans, one per heading section."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    heads: list[tuple[int, int, str]] = []  # (line index, level, title)
    fence: str | None = None
    for i, line in enumerate(lines):
        m = _FENCE.match(line)
        if m:
            marker = m.group(1)
            if fence is None:
                fence = marker[0] * 3
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        m = _ATX.match(line)
        if m:
            heads.append((i, len(m.group(1)), m.group(2).strip()))
            continue
        if i > 0 and _SETEXT.match(line) and lines[i - 1].strip() and not _ATX.match(lines[i - 1]):
            if not (heads and heads[-1][0] == i - 1) and not _FENCE.match(lines[i - 1]):
                level = 1 if line.strip()[0] == "=" else 2
                if level == 1 or not lines[i - 1].lstrip().startswith(("-", "*", "+", ">")):
                    heads.append((i - 1, level, lines[i - 1].strip()))
    sections: list[tuple[int, int, str]] = []
    stack: list[tuple[int, str]] = []
    first = heads[0][0] if heads else len(lines)
    if first > 0:
        sections.append((0, offsets[first], ""))
    for n, (line_no, level, title) in enumerate(heads):
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, title))
        end_line = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        sections.append((offsets[line_no], offsets[end_line], " > ".join(t for _, t in stack)))
    # A heading with no body of its own joins the section that follows it.
    merged: list[tuple[int, int, str]] = []
    for start, end, crumb in sections:
        end = min(end, len(text))
        if merged and not _body(text, merged[-1][0], merged[-1][1]):
            start = merged.pop()[0]
        merged.append((start, end, crumb))
    return merged


def _body(text: str, start: int, end: int) -> bool:
    """Whether a section holds anything besides its heading line."""
    section = text[start:end].strip()
    return "\n" in section or not section.startswith("#")


# -- Python: chunks that follow definitions -------------------------------------------------
def _python_units(text: str, lines: list[str]) -> list[tuple[int, int, str, object]] | None:
    """Top-level units of a Python file: (first line, last line, symbol, ast node or None).

    A definition starts at its first decorator, or at the comment block right above it;
    the statements between definitions form their own units.
    """
    import ast

    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _units_of(tree.body, lines, 1, len(lines), "")


def _units_of(body: list, lines: list[str], first: int, last: int, crumb: str) -> list[tuple[int, int, str, object]]:
    import ast

    units: list[tuple[int, int, str, object]] = []
    cursor = first
    for node in body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        start = min([node.lineno] + [d.lineno for d in node.decorator_list])
        while start - 1 >= cursor and lines[start - 2].lstrip().startswith("#"):
            start -= 1  # the comment block that documents the definition
        end = node.end_lineno or node.lineno
        if start > cursor:
            units.append((cursor, start - 1, crumb, None))
        kind = "class" if isinstance(node, ast.ClassDef) else "def"
        units.append((start, end, f"{crumb} > {kind} {node.name}" if crumb else f"{kind} {node.name}", node))
        cursor = end + 1
    if cursor <= last:
        units.append((cursor, last, crumb, None))
    return units


def _common_crumb(symbols: list[str], skip_top: bool = False) -> str:
    """The enclosing scope shared by merged units ("class A > def f" + "class A" -> "class A");
    ``skip_top``: top-level lines between definitions (imports, constants) do not count."""
    parts = [sym.split(" > ") if sym else [] for sym in symbols if sym or not skip_top] or [[]]
    common: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return " > ".join(common)


class Chunker:
    def __init__(self, chunk_tokens: int = 300, overlap_tokens: int = 30, merge_below: int | None = None):
        self.chunk_tokens = chunk_tokens
        self.overlap_tokens = overlap_tokens
        # definitions smaller than this join their neighbours (up to the chunk size); None: by
        # language (MERGE_BELOW, else a sixth of a chunk)
        self.merge_below = merge_below

    def merge_threshold(self, language: str) -> int:
        if self.merge_below is not None:
            return self.merge_below
        return int(self.chunk_tokens * MERGE_BELOW.get(language, 1 / 6))

    def split(self, text: str, language: str, path: str) -> list[Chunk]:
        if not text.strip():
            return []
        spans: list[tuple[int, str, str]]  # (offset, piece, heading)
        names: dict[int, tuple[str, ...]] = {}  # offset -> the definitions a merged chunk holds
        py = None
        if language == "markdown":
            spans = []
            for start, end, crumb in markdown_sections(text):
                section = text[start:end]
                if not section.strip():
                    continue
                if estimate_tokens(section) <= self.chunk_tokens:
                    stripped = section.strip()
                    spans.append((start + section.index(stripped), stripped, crumb))
                    continue
                spans.extend((at, piece, crumb) for at, piece in self._markdown_blocks(section, start))
        elif (py := self._structured(text, language, names)) is not None:
            spans = py  # overlap already placed, only inside definitions
        else:
            lc = LANGCHAIN_LANGUAGES.get(language)
            split = _splitter(lc, self.chunk_tokens, self.overlap_tokens)
            spans = [(at, piece, "") for at, piece in _locate(text, split(text))]
        if py is None:
            spans = _with_overlap(text, spans, self.overlap_tokens)
        newlines = [m.start() for m in re.finditer("\n", text)]
        chunks: list[Chunk] = []
        for at, piece, heading in spans:
            start_line = bisect.bisect_right(newlines, at - 1) + 1
            end_line = start_line + piece.count("\n")
            embed_input = context_header(path, heading, py is not None, names.get(at, ())) + piece
            chunks.append(
                Chunk(
                    index=len(chunks),
                    start_line=start_line,
                    end_line=end_line,
                    text=piece,
                    heading=heading,
                    embed_input=embed_input,
                    chunk_hash=chunk_hash(embed_input),
                    tokens=estimate_tokens(embed_input),
                    symbols=tuple(dict.fromkeys(s for s in map(symbol_of, names.get(at, ())) if s)),
                )
            )
        return chunks

    # -- code by its definitions ----------------------------------------------------------------
    def _structured(
        self, text: str, language: str, names: dict[int, tuple[str, ...]]
    ) -> list[tuple[int, str, str]] | None:
        """Spans aligned with definitions (Python by ``ast``, other languages by their syntax
        tree), or None when the file has no grammar or does not parse. ``names`` gets the
        definitions of each merged span (by offset)."""
        from roocode_tui.core.chunking import syntax

        if language == "python" and language not in syntax.GRAMMARS:
            import ast

            lines = text.split("\n")
            units = _python_units(text, lines)

            def inner(node: object, first: int, last: int, symbol: str) -> list | None:
                if isinstance(node, ast.ClassDef) and node.body:
                    found = _units_of(node.body, lines, first, last, symbol)
                    return found if len(found) > 1 else None
                return None
        else:
            if not syntax.supported(language):
                return None
            units = syntax.units(language, text)

            def inner(node: object, first: int, last: int, symbol: str) -> list | None:
                return syntax.inner_units(node, first, last, symbol)

        if units is None:
            return None
        # Python keeps the rules it was measured with (bench/eval/run.py): no merging by name,
        # no names in a merged chunk's header.
        return self._by_units(text, language, units, inner, None if language == "python" else names)

    def _by_units(
        self,
        text: str,
        language: str,
        units: list[tuple[int, int, str, object]],
        inner: Callable[[object, int, int, str], list | None],
        names: dict[int, tuple[str, ...]] | None,
    ) -> list[tuple[int, str, str]]:
        """A definition is cut only when it is larger than the chunk size (a class into its
        members first); small neighbours are merged, and so are neighbours of one name
        (overloads, a getter and its setter) while they fit in a chunk."""
        lines = text.split("\n")
        starts = [0]
        for line in lines:
            starts.append(starts[-1] + len(line) + 1)
        out: list[tuple[int, str, str]] = []
        group: list[tuple[int, int, str, bool]] = []  # (first, last, symbol, a definition?) to merge
        below = self.merge_threshold(language)

        def piece(first: int, last: int) -> tuple[int, str] | None:
            raw = text[starts[first - 1] : min(starts[last], len(text))]
            stripped = raw.strip()
            if not stripped:
                return None
            return starts[first - 1] + raw.index(stripped), stripped

        def flush() -> None:
            if not group:
                return
            found = piece(group[0][0], group[-1][1])
            if found:
                crumb = _common_crumb([sym for _, _, sym, _ in group], skip_top=names is not None)
                defined = dict.fromkeys(
                    sym[len(crumb) :].lstrip(" >").split(" > ", 1)[0]
                    for _, _, sym, definition in group
                    if definition and sym != crumb
                )
                if len(defined) > 1 and names is not None:
                    names[found[0]] = tuple(defined)
                out.append((found[0], found[1], crumb))
            group.clear()

        def tokens(first: int, last: int) -> int:
            return estimate_tokens(text[starts[first - 1] : starts[min(last, len(lines))]])

        def emit(units: list[tuple[int, int, str, object]]) -> None:
            for first, last, symbol, node in units:
                if first > last or piece(first, last) is None:
                    continue  # nothing but blank lines
                size = tokens(first, last)
                if size > self.chunk_tokens:
                    flush()
                    if node is not None:
                        members = inner(node, first, last, symbol)
                        if members is not None:
                            emit(members)
                            flush()
                            continue
                    self._split_block(text, language, starts, first, last, symbol, out)
                    continue
                if group:
                    merged = tokens(group[0][0], last)
                    small = tokens(group[0][0], group[-1][1]) < below and size < below
                    same = names is not None and node is not None and group[-1][3] and symbol == group[-1][2]
                    if merged > self.chunk_tokens or not (small or same):
                        flush()
                group.append((first, last, symbol, node is not None))

        emit(units)
        flush()
        return out

    def _split_block(
        self,
        text: str,
        language: str,
        starts: list[int],
        first: int,
        last: int,
        symbol: str,
        out: list[tuple[int, str, str]],
    ) -> None:
        """A definition larger than a chunk: split inside it, with overlap, same symbol."""
        begin = starts[first - 1]
        block = text[begin : min(starts[last], len(text))]
        split = _splitter(LANGCHAIN_LANGUAGES.get(language), self.chunk_tokens, self.overlap_tokens)
        located = _locate(block, split(block), begin)
        out.extend(_with_overlap(text, [(at, p, symbol) for at, p in located], self.overlap_tokens))

    # -- Markdown -----------------------------------------------------------------------------
    def _markdown_blocks(self, section: str, base: int) -> list[tuple[int, str]]:
        """A long section packed from whole blocks: paragraphs, lists, and fenced code blocks,
        which stay whole when they fit in a chunk. A block larger than a chunk is split."""
        blocks: list[tuple[int, int]] = []  # [start, end) offsets in section
        lines = section.split("\n")
        pos, start, fence = 0, None, None
        for line in lines:
            end = pos + len(line) + 1
            m = _FENCE.match(line)
            if fence is None and m:
                if start is not None:
                    blocks.append((start, pos))
                start, fence = pos, m.group(1)[0] * 3
            elif fence is not None:
                if m and m.group(1).startswith(fence):
                    blocks.append((start if start is not None else pos, min(end, len(section))))
                    start, fence = None, None
            elif not line.strip():
                if start is not None:
                    blocks.append((start, pos))
                    start = None
            elif start is None:
                start = pos
            pos = end
        if start is not None:
            blocks.append((start, len(section)))
        out: list[tuple[int, str]] = []
        group: tuple[int, int] | None = None

        def flush() -> None:
            if group is not None:
                piece = section[group[0] : group[1]].strip()
                if piece:
                    out.append((base + section.index(piece, group[0]), piece))

        for b_start, b_end in blocks:
            size = estimate_tokens(section[b_start:b_end])
            if size > self.chunk_tokens:
                flush()
                group = None
                block = section[b_start:b_end]
                split = _splitter("markdown", self.chunk_tokens, self.overlap_tokens)
                out.extend(_locate(block, split(block), base + b_start))
                continue
            if group is not None and estimate_tokens(section[group[0] : b_end]) > self.chunk_tokens:
                flush()
                group = None
            group = (group[0] if group is not None else b_start, b_end)
        flush()
        return out
