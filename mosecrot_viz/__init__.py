"""mosecrot_viz: run and inspect MoSECroT crosslingual model stitching."""

__version__ = "0.1.0"
