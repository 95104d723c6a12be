"""`rosenblatt.compile`'s machinery: `capture` records a module's forward into a plan of the
ops' array kernels; `optimized` is the module wrapper that guards, caches and runs plans."""
