"""Checks every chart test shares: parse the SVG as XML and look at what a reader would get."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
NUMERIC_ATTRIBUTES = ("x", "y", "x1", "y1", "x2", "y2", "width", "height", "cx", "cy", "r")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|nan|inf", re.I)


def parse(chart) -> ET.Element:  # noqa: ANN001
    """The chart's SVG as an element tree (fails the test when it is not well-formed XML)."""
    return ET.fromstring(str(chart.svg))


def all_text(root: ET.Element) -> str:
    return " ".join("".join(element.itertext()) for element in root.iter(f"{SVG}text"))


def assert_accessible(root: ET.Element) -> None:
    """role=img, labelled by a <title> and a <desc> that exist and say something."""
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    title = root.find(f"{SVG}title")
    desc = root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == title_id and title.text.strip()
    assert desc is not None and desc.get("id") == desc_id and desc.text.strip()
    assert root.get("viewBox")


def coordinates(root: ET.Element) -> list[float]:
    """Every number in a coordinate attribute or a path, as floats (NaN and inf included, to be caught)."""
    numbers = []
    for element in root.iter():
        for name in NUMERIC_ATTRIBUTES:
            if name in element.attrib and not (element.tag == f"{SVG}svg" and name == "width"):
                numbers.append(float(element.get(name)))
        for name in ("d", "points", "viewBox"):
            if name in element.attrib:
                numbers.extend(float(token) for token in _NUMBER.findall(element.get(name)))
    return numbers


def assert_finite(root: ET.Element) -> None:
    values = coordinates(root)
    assert values, "a chart draws something"
    assert all(math.isfinite(value) for value in values), [v for v in values if not math.isfinite(v)]
    assert "nan" not in ET.tostring(root, encoding="unicode").lower().replace("nanosecond", "")


def rects_with(root: ET.Element, attribute: str) -> list[ET.Element]:
    return [element for element in root.iter(f"{SVG}rect") if attribute in element.attrib]
