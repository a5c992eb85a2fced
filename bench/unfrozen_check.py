"""Run the unfrozen-embeddings check of the mini profile (see xstilts.bench_unfrozen)."""

import sys

from xstilts.bench_unfrozen import main

if __name__ == "__main__":
    sys.exit(main())
