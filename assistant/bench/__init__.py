"""Benchmarks behind ``reverie bench ...``: each module measures one thing on this machine."""
