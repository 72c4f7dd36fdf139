"""Collections as a whole: the catalog (roocode-tui's own and agents' collections), snapshots,
and copies between stores."""
