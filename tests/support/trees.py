"""Trees of files to index: many pages, and a round of edits, deletions and new files."""

from __future__ import annotations

import random
from pathlib import Path


def many_files(root: Path, n: int, tag: str = "") -> Path:
    for i in range(n):
        path = root / "docs" / f"page{i:03d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        # every sentence its own: no two chunks alike (a text met twice in a run is embedded once)
        words = " ".join(f"Topic {i}, point {j}, explained in plain words." for j in range(40))
        path.write_text(f"# Page {i} {tag}\n\n{words}\n")
    return root


def mutate(tree: Path, rng: random.Random, round_no: int) -> None:
    pages = sorted(tree.glob("pages/*.md"))
    for page in rng.sample(pages, k=min(8, len(pages))):
        text = page.read_text()
        page.write_text(text.replace("detail", f"detail r{round_no}", 1) + f"\nAppendix {round_no}.\n")
    if pages and rng.random() < 0.5:
        rng.choice(pages).unlink()
    new = tree / "pages" / f"new_{round_no}.md"
    new.write_text(f"# New page {round_no}\n\n" + f"Fresh words for round {round_no}. " * 40 + "\n")
