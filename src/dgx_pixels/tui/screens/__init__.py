"""The TUI's screens, one module each (see :data:`dgx_pixels.tui.keys.SCREENS`)."""
