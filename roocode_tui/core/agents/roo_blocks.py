"""Roo Code's blocks below its parsers: the JavaScript string semantics its hashes see, a
block's segment hash and point id, and the line-based chunking (processors/parser.ts
_chunkTextByLines) that both the markdown and the tree-sitter paths fall back to.

:mod:`roocode_tui.core.agents.roo` (the file-level split, names and payloads) and
:mod:`roocode_tui.core.agents.roo_tree` (the tree-sitter path) build on this module; it imports
neither.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

NAMESPACE = uuid.UUID("f47ac10b-58cc-4372-a567-0e02b2c3d479")  # QDRANT_CODE_BLOCK_NAMESPACE
MAX_BLOCK_CHARS = 1000
MIN_BLOCK_CHARS = 50
MIN_CHUNK_REMAINDER_CHARS = 200
MAX_CHARS_TOLERANCE_FACTOR = 1.15
# JavaScript's \s and String.prototype.trim() whitespace; "." excludes these line terminators.
_JS_WS = " \t\n\v\f\r\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
_SURROGATE = re.compile("[\ud800-\udfff]")


# -- ids -------------------------------------------------------------------------------------
def segment_hash(file_path: str, start_line: int, end_line: int, content: str) -> str:
    """processors/parser.ts: sha256(`${filePath}-${start}-${end}-${content.length}-${preview}`),
    filePath the file's absolute path, preview content.slice(0, 100)."""
    return _sha256(f"{file_path}-{start_line}-{end_line}-{js_len(content)}-{js_head(content, 100)}")


def point_id(seg_hash: str) -> str:
    """processors/scanner.ts: uuidv5(block.segmentHash, QDRANT_CODE_BLOCK_NAMESPACE)."""
    return str(uuid.uuid5(NAMESPACE, seg_hash))


# -- JavaScript string semantics -------------------------------------------------------------
def js_len(text: str) -> int:
    """``String.length``: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def js_head(text: str, units: int) -> str:
    """``text.slice(0, units)``: may end in half of a surrogate pair, as in JavaScript."""
    if text.isascii() or len(text) * 2 <= units:
        return text[:units]
    return text.encode("utf-16-le", "surrogatepass")[: 2 * units].decode("utf-16-le", "surrogatepass")


def js_tail(text: str, units: int) -> str:
    """``text.substring(units)``."""
    if text.isascii():
        return text[units:]
    return text.encode("utf-16-le", "surrogatepass")[2 * units :].decode("utf-16-le", "surrogatepass")


def js_trim(text: str) -> str:
    return text.strip(_JS_WS)


def _utf8(text: str) -> bytes:
    """Node's ``hash.update(string)``: UTF-8, a lone surrogate becoming U+FFFD."""
    return _SURROGATE.sub("\ufffd", text).encode("utf-8")


def _sha256(text: str) -> str:
    return hashlib.sha256(_utf8(text)).hexdigest()


def decode(data: bytes) -> str:
    """``Buffer.toString("utf-8")``: invalid bytes become U+FFFD, a BOM is kept."""
    return data.decode("utf-8", errors="replace")


# -- chunks ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Block:
    start_line: int  # 1-based, inclusive
    end_line: int
    content: str  # stored as codeChunk; what is embedded is its trimmed text
    segment_hash: str

    @property
    def id(self) -> str:
        return point_id(self.segment_hash)


def chunk_lines(lines: list[str], file_path: str, seen: set[str], base_start: int) -> list[Block]:
    """processors/parser.ts _chunkTextByLines(), step for step (its re-balancing included)."""
    chunks: list[Block] = []
    effective_max = MAX_BLOCK_CHARS * MAX_CHARS_TOLERANCE_FACTOR
    n = len(lines)
    lengths = [js_len(line) + (1 if i < n - 1 else 0) for i, line in enumerate(lines)]
    current: list[str] = []
    current_len = 0
    start_index = 0

    def finalize(end_index: int) -> None:
        nonlocal current, current_len, start_index
        if current_len >= MIN_BLOCK_CHARS and current:
            content = "\n".join(current)
            start, end = base_start + start_index, base_start + end_index
            digest = segment_hash(file_path, start, end, content)
            if digest not in seen:
                seen.add(digest)
                chunks.append(Block(start, end, content, digest))
        current, current_len = [], 0
        start_index = end_index + 1

    i = 0
    while i < n:
        line, line_len, line_no = lines[i], lengths[i], base_start + i
        if line_len > effective_max:
            if current:
                finalize(i - 1)
            rest, start_char = line, 0
            while rest:
                segment, rest = js_head(rest, MAX_BLOCK_CHARS), js_tail(rest, MAX_BLOCK_CHARS)
                digest = _sha256(
                    f"{file_path}-{line_no}-{line_no}-{start_char}-{js_len(segment)}-{js_head(segment, 100)}"
                )
                if digest not in seen:
                    seen.add(digest)
                    chunks.append(Block(line_no, line_no, segment, digest))
                start_char += MAX_BLOCK_CHARS
            start_index = i + 1
            i += 1
            continue
        if current_len > 0 and current_len + line_len > effective_max:
            split_index = i - 1
            remainder = sum(lengths[i:])
            if current_len >= MIN_BLOCK_CHARS and remainder < MIN_CHUNK_REMAINDER_CHARS and len(current) > 1:
                for k in range(i - 2, start_index - 1, -1):
                    head_len = js_len("\n".join(lines[start_index : k + 1])) + 1
                    tail_len = js_len("\n".join(lines[k + 1 :])) + 1
                    if head_len >= MIN_BLOCK_CHARS and tail_len >= MIN_CHUNK_REMAINDER_CHARS:
                        split_index = k
                        break
            finalize(split_index)
            if i >= start_index:
                current.append(line)
                current_len += line_len
            else:  # never taken (start_index <= i), kept as in the source
                i = start_index
                continue
        else:
            current.append(line)
            current_len += line_len
        i += 1
    if current:
        finalize(n - 1)
    return chunks
