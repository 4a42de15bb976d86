"""`python -m mosecrot_viz ...`"""
import sys

from mosecrot_viz.cli import main

sys.exit(main())
