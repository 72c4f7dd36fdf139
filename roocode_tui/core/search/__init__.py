"""Search: the searcher (dense, keyword, hybrid lanes and the ranking stack), the ranker's
signals, the optional reranker, and measuring search on a repository's own
history (questions, evaluation)."""
