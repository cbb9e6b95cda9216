"""A still chart of the report: its PNG, and a compact copy for the Dagster metadata."""

import base64
import io
from dataclasses import dataclass

from PIL import Image  # matplotlib's own image library

METADATA_IMAGE_WIDTH = 760


@dataclass
class Chart:
    name: str
    title: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def compact_data_uri(self, width: int = METADATA_IMAGE_WIDTH) -> str:
        """A smaller copy for the Dagster metadata (kept in the event log of every run)."""
        return "data:image/png;base64," + base64.b64encode(compact_png(self.png, width)).decode("ascii")


def compact_png(png: bytes, width: int) -> bytes:
    """`png` scaled down to `width` and reduced to 256 colours (charts have few): about 1/4 the bytes."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    buf = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        buf, format="PNG", optimize=True
    )
    return buf.getvalue()
