"""Datums of Chinese map data: the public GCJ-02 forward transform and its inverse.

GCJ-02 (the "Mars" datum of Chinese web maps) shifts WGS84 by about 300–600 m; boundaries
and points from Chinese map services are stored in it, while browsers and GPS give WGS84.
"""

from __future__ import annotations

import numpy as np


def gcj02_to_wgs84(lon, lat, *, iterations: int = 3):
    """Convert GCJ-02 longitude/latitude to WGS84 (vectorised).

    GCJ-02 is a published obfuscation of WGS84 with no inverse formula; the inverse is
    found by fixed-point iteration on the forward transform (three rounds bring it
    within about 1 cm of the exact inverse; the forward formula itself is public).
    Outside mainland China the coordinates are returned unchanged.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(115.8921, 28.6765)  # 八一广场, 南昌
    >>> round(float(lon) - 115.8921, 4), round(float(lat) - 28.6765, 4)  # ~500 m off
    (0.0048, -0.0034)
    >>> back = gcj02_to_wgs84(lon, lat)
    >>> round(float(back[0]), 7), round(float(back[1]), 7)
    (115.8921, 28.6765)
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    wlon, wlat = lon.copy(), lat.copy()
    for _round in range(iterations):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (glon - lon), wlat - (glat - lat)
    return wlon, wlat


def wgs84_to_gcj02(lon, lat):
    """The public GCJ-02 forward transform (Krasovsky ellipsoid constants)."""
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1 - ee * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (a / sqrtmagic * np.cos(radlat) * np.pi)
    inside = (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)
