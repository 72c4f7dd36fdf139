"""Index runs: the indexer (discovery, chunking, embedding, writing, with reuse and resume) and
its progress report."""
