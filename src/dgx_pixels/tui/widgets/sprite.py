"""A sprite drawn exactly: half blocks (1x2 sprite pixels per cell) or Kitty/Sixel graphics.

:class:`SpriteView` shows one image at a whole-number zoom (nearest only); a
sprite that does not fit is cropped, never shrunk. With ``renderer="kitty"``
or ``"sixel"`` it shows the picture through textual-image, prepared by
:func:`~dgx_pixels.tui.pixels.graphics_picture` so that library never
resamples it. ``noise=True`` starts the caption with NOISE: a random-weight model drew it.
"""

from __future__ import annotations

from typing import Any

from PIL import Image
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static

from dgx_pixels.tui.pixels import graphics_picture, halfblock_rows, halfblock_size

__all__ = ["HalfBlockPicture", "SpriteView"]

NOISE_LABEL = "NOISE"


class HalfBlockPicture(Widget):
    """The picture itself, as half-block rows."""

    DEFAULT_CSS = """
    HalfBlockPicture { width: auto; height: auto; }
    """

    def __init__(self, image: Image.Image | None = None, *, zoom: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rows: list[list[Segment]] = []
        self._cells = (0, 0)
        self.show(image, zoom=zoom)

    def show(self, image: Image.Image | None, *, zoom: int = 1) -> None:
        """Draw ``image`` (None: nothing) at ``zoom``."""
        if image is None:
            self._rows, self._cells = [], (0, 0)
        else:
            self._rows = halfblock_rows(image, zoom=zoom)
            self._cells = halfblock_size(image.size, zoom=zoom)
        self.refresh(layout=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self._cells[0]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._cells[1]

    def render_line(self, y: int) -> Strip:
        if y >= len(self._rows):
            return Strip.blank(self.size.width)
        return Strip(self._rows[y]).crop_extend(0, self.size.width, Style())


class SpriteView(Widget):
    """A sprite with an optional caption line and the noise label when it is noise."""

    DEFAULT_CSS = """
    SpriteView { width: auto; height: auto; layout: vertical; }
    SpriteView > .caption { width: auto; height: 1; color: $text-muted; }
    """

    def __init__(
        self,
        image: Image.Image | None = None,
        *,
        zoom: int = 1,
        renderer: str = "halfblock",
        caption: str = "",
        noise: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.renderer = renderer
        self._image = image
        self._zoom = zoom
        self._caption = caption
        self._noise = noise

    def compose(self) -> ComposeResult:
        yield Static(self._caption_text(), classes="caption")
        if self.renderer in ("kitty", "sixel"):
            yield _graphics_widget(self.renderer)
        else:
            yield HalfBlockPicture(self._image, zoom=self._zoom)

    def on_mount(self) -> None:
        self._update()

    def _caption_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self._noise:
            text.append(NOISE_LABEL + " ", style="bold black on yellow")
        text.append(self._caption)
        return text

    @property
    def image(self) -> Image.Image | None:
        """The image shown."""
        return self._image

    def show(
        self,
        image: Image.Image | None,
        *,
        zoom: int | None = None,
        caption: str | None = None,
        noise: bool | None = None,
    ) -> None:
        """Show ``image`` (keeping the zoom, caption and noise flag unless given)."""
        self._image = image
        self._zoom = self._zoom if zoom is None else zoom
        self._caption = self._caption if caption is None else caption
        self._noise = self._noise if noise is None else noise
        if self.is_mounted:
            self._update()

    def _update(self) -> None:
        caption = self.query_one(".caption", Static)
        caption.update(self._caption_text())
        caption.display = bool(self._caption or self._noise)
        picture = self.query_children().exclude(".caption").first()
        if isinstance(picture, HalfBlockPicture):
            picture.show(self._image, zoom=self._zoom)
            return
        _show_graphics(picture, self._image, self._zoom)


def _graphics_widget(renderer: str) -> Widget:
    from textual_image.widget import SixelImage, TGPImage

    widget: Widget = TGPImage() if renderer == "kitty" else SixelImage()
    return widget


def _show_graphics(widget: Any, image: Image.Image | None, zoom: int) -> None:
    from textual_image._terminal import get_cell_size  # the size textual-image draws with

    if image is None:
        widget.image = None
        widget.styles.width = widget.styles.height = 0
        return
    cell = get_cell_size()
    picture, cols, rows = graphics_picture(image, zoom=zoom, cell=(cell.width, cell.height))
    widget.image = picture
    widget.styles.width = cols
    widget.styles.height = rows
