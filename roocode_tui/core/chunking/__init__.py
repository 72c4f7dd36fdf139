"""Files into chunks: the splitter (by syntax tree where a grammar is known, by headings for
markdown, by lines otherwise), the per-language syntax rules, and each chunk's keyword
vector and defined names (keywords.py)."""
