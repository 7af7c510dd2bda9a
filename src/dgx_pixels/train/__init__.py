"""Training: style LoRAs for SDXL and the built-in sprite model."""

__all__: list[str] = []
