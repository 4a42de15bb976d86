"""Runs on disk: the run store (background runs, status, cancel), sweeps, YAML grids and their engines, and exports
of a stored run. A run folder is the contract: results.json, predictions.csv, anchors.json, analysis.json."""
