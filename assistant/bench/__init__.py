"""Benchmarks behind ``reverie bench ...``: ratios measured side by side in one run."""
