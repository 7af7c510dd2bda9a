"""``python -m dgx_pixels.cli``."""

from dgx_pixels.cli import main

main()
