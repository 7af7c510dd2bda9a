"""``python -m dgx_pixels``."""

from dgx_pixels.cli import main

main()
