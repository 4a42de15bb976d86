"""One experiment: its typed configuration, its inputs, the mapped spaces, the run (fine-tune, swap, evaluate) and
what it records about itself. Above `core/` (the method), `defaults/` and `io/`; below `analysis/` and `store/`."""
