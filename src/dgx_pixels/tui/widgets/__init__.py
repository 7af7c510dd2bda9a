"""The TUI's widgets, by area: sprites, the worker bar, the screen tabs, palette swatches,
form rows."""
