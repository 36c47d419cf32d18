"""Scanner backends: one module per tool; :mod:`secscan.scanners.registry` lists them.

The registry imports the backend modules only when asked (they stay light: the tools themselves
run as subprocesses), so ``secscan --version`` never pays for them.
"""
