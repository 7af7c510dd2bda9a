"""Colour spaces and colour difference, vectorised over NumPy arrays.

Pixel art is judged by eye, so palette work happens in perceptual spaces:
OKLab (Ottosson 2020) for clustering and nearest-colour mapping, CIELAB with
CIEDE2000 for "do these two colours look the same" in tests and evaluation.
All functions take float arrays of shape ``(..., 3)``; sRGB is in ``[0, 1]``.

>>> import numpy as np
>>> white = np.array([1.0, 1.0, 1.0])
>>> np.round(srgb_to_oklab(white), 4).tolist()
[1.0, 0.0, 0.0]
>>> bool(np.allclose(oklab_to_srgb(srgb_to_oklab(white)), white))
True
>>> float(np.round(ciede2000(srgb_to_lab(white), srgb_to_lab(white)), 6))
0.0
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "ciede2000",
    "linear_to_srgb",
    "oklab_to_srgb",
    "srgb_to_lab",
    "srgb_to_linear",
    "srgb_to_oklab",
    "to_float_rgb",
]

Float = NDArray[np.float64]

_M1 = np.array(  # linear sRGB -> LMS (OKLab)
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ]
)
_M2 = np.array(  # LMS^(1/3) -> OKLab
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ]
)
_M1_INV = np.linalg.inv(_M1)
_M2_INV = np.linalg.inv(_M2)
_RGB_TO_XYZ = np.array(  # linear sRGB (D65) -> XYZ
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ]
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])


def to_float_rgb(rgb: ArrayLike) -> Float:
    """uint8 RGB (0..255) -> float sRGB in [0, 1]; float input is returned as float64."""
    a = np.asarray(rgb)
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    return a.astype(np.float64, copy=False)


def srgb_to_linear(srgb: ArrayLike) -> Float:
    """Undo the sRGB transfer curve."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: ArrayLike) -> Float:
    """Apply the sRGB transfer curve (values are clipped to [0, 1] first)."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def srgb_to_oklab(srgb: ArrayLike) -> Float:
    """sRGB in [0, 1] -> OKLab (L in [0, 1])."""
    lms = srgb_to_linear(srgb) @ _M1.T
    lab: Float = np.cbrt(lms) @ _M2.T
    return lab


def oklab_to_srgb(lab: ArrayLike) -> Float:
    """OKLab -> sRGB in [0, 1] (out-of-gamut colours are clipped)."""
    lms = (np.asarray(lab, dtype=np.float64) @ _M2_INV.T) ** 3
    return linear_to_srgb(lms @ _M1_INV.T)


def srgb_to_lab(srgb: ArrayLike) -> Float:
    """sRGB in [0, 1] -> CIELAB (D65), for :func:`ciede2000`."""
    xyz = (srgb_to_linear(srgb) @ _RGB_TO_XYZ.T) / _WHITE_D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
    return np.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1)


def ciede2000(lab1: ArrayLike, lab2: ArrayLike) -> Float:
    """CIEDE2000 colour difference between CIELAB colours (Sharma, Wu, Dalal 2005).

    A difference below about 2.3 is barely visible; identical colours give 0.
    """
    a1 = np.asarray(lab1, dtype=np.float64)
    a2 = np.asarray(lab2, dtype=np.float64)
    l1, aa1, b1 = a1[..., 0], a1[..., 1], a1[..., 2]
    l2, aa2, b2 = a2[..., 0], a2[..., 1], a2[..., 2]

    c1 = np.hypot(aa1, b1)
    c2 = np.hypot(aa2, b2)
    c_bar7 = ((c1 + c2) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_bar7 / (c_bar7 + 25.0**7)))
    a1p, a2p = (1 + g) * aa1, (1 + g) * aa2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360

    dl = l2 - l1
    dc = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    d_hh = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))

    l_bar = (l1 + l2) / 2
    c_bar_p = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(
        c1p * c2p == 0,
        h_sum,
        np.where(
            np.abs(h1p - h2p) <= 180,
            h_sum / 2,
            np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2),
        ),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    c_bar_p7 = c_bar_p**7
    r_c = 2 * np.sqrt(c_bar_p7 / (c_bar_p7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar_p
    s_h = 1 + 0.015 * c_bar_p * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    result: Float = np.sqrt(
        (dl / s_l) ** 2 + (dc / s_c) ** 2 + (d_hh / s_h) ** 2 + r_t * (dc / s_c) * (d_hh / s_h)
    )
    return result
