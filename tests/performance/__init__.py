"""Performance-path tests: the torch-free serving path and cold start (behaviour only; timings live in bench/)."""
