"""``python -m benchmarks``: see ``run_all.py``."""

from benchmarks.run_all import main

raise SystemExit(main())
