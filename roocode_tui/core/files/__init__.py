"""The files an index reads: discovery (ignore rules, binary and size checks), languages, reading
lines back for a face, and installed packages as a tree to index."""
