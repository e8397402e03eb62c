"""molq's benchmarks (issue 8): run ``python -m bench`` (``--smoke`` for CI); see bench/README.md."""
