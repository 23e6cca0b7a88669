"""Build the web page's map of France (``src/attrap/web/france_map.json``) from real geometry.

The source is the département map shipped by the PyPI package ``pygal-maps-fr`` (LGPL-3.0+,
Kozea): metropolitan France with Corsica, the overseas départements as insets and Paris with its
inner suburbs enlarged. This script flattens its Bézier paths into polygons, simplifies them
(shapely) and rounds the coordinates so the whole map weighs a few dozen kilobytes.

It needs packages the application does not, so run it from a throwaway environment:

    python3 -m venv /tmp/map-venv
    /tmp/map-venv/bin/pip install pygal-maps-fr svgelements shapely
    /tmp/map-venv/bin/python scripts/build_france_map.py
"""

from __future__ import annotations

import ast
import json
from importlib import resources
from pathlib import Path
from typing import Any

import svgelements  # type: ignore[import-not-found]
from shapely.geometry import MultiPolygon, Polygon  # type: ignore[import-not-found]
from shapely.ops import unary_union  # type: ignore[import-not-found]

OUTPUT = Path(__file__).resolve().parents[1] / "src" / "attrap" / "web" / "france_map.json"
# In the source's units (about 2000 across): under one screen pixel at the sizes the page uses.
TOLERANCE = 2.0
# Saint-Pierre-et-Miquelon is a collectivity without a prefecture RAA of its own.
SKIPPED = {"975"}
NAME_FIXES = {"974": "La Réunion"}
PARIS_INSET = {"75", "92", "93", "94"}
OVERSEAS = {"971", "972", "973", "974", "976"}
WIDTH = 1000.0


def department_names() -> dict[str, str]:
    """The package's ``DEPARTMENTS`` table, read without importing it: its module imports a
    helper that current pygal releases no longer have."""
    module = ast.parse((resources.files("pygal_maps_fr") / "maps.py").read_text("utf-8"))
    for node in module.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "DEPARTMENTS":
            table = node.value
            assert isinstance(table, ast.Dict)
            return {
                ast.literal_eval(key): ast.literal_eval(value.args[0])  # u("Ain") → "Ain"
                for key, value in zip(table.keys, table.values, strict=True)
                if key is not None and isinstance(value, ast.Call)
            }
    raise LookupError("DEPARTMENTS not found in pygal_maps_fr.maps")


def polygon_points(subpath: svgelements.Path) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for segment in subpath:
        if isinstance(segment, svgelements.Move | svgelements.Close | svgelements.Line):
            points.append((segment.end.x, segment.end.y))
        else:
            points.extend((float(x), float(y)) for x, y in segment.npoint([0.25, 0.5, 0.75, 1.0]))
    return points


def shape_of(path: svgelements.Path) -> Polygon | MultiPolygon:
    rings = [polygon_points(sub) for sub in path.as_subpaths()]
    polygons = [Polygon(ring).buffer(0) for ring in rings if len(ring) >= 3]
    return unary_union(polygons).simplify(TOLERANCE, preserve_topology=True)


def path_data(shape: Polygon | MultiPolygon, origin: tuple[float, float], scale: float) -> str:
    polygons = shape.geoms if isinstance(shape, MultiPolygon) else [shape]
    parts: list[str] = []
    for polygon in polygons:
        if polygon.area * scale * scale < 2:  # specks smaller than a pixel
            continue
        for ring in [polygon.exterior, *polygon.interiors]:
            coordinates = [
                f"{(x - origin[0]) * scale:.1f} {(y - origin[1]) * scale:.1f}"
                for x, y in ring.coords[:-1]
            ]
            parts.append("M" + "L".join(coordinates) + "Z")
    return "".join(parts)


def main() -> None:
    source = resources.files("pygal_maps_fr") / "fr.departments.svg"
    with resources.as_file(source) as svg_path:
        document = svgelements.SVG.parse(str(svg_path))
    shapes: list[tuple[str, Polygon | MultiPolygon]] = []
    code: str | None = None
    for element in document.elements():
        # Each département is a group classed "z<code> departement" around its path.
        if isinstance(element, svgelements.Group):
            classes = (element.values.get("class") or "").split()
            code = next((c[1:] for c in classes if c.startswith("z")), code)
        elif isinstance(element, svgelements.Path) and code and code not in SKIPPED:
            shapes.append((code, shape_of(element)))
    left, top, right, bottom = unary_union([s for _, s in shapes]).bounds
    margin = 10.0
    origin = (left - margin, top - margin)
    scale = WIDTH / (right - left + 2 * margin)
    seen: set[str] = set()
    features: list[dict[str, Any]] = []
    areas: list[float] = []
    insets: dict[str, list[float]] = {}
    for code, shape in shapes:
        # The source draws Paris and its inner suburbs twice: in place and enlarged.
        inset = "paris" if code in PARIS_INSET and code in seen else None
        inset = inset or ("outre-mer" if code in OVERSEAS else None)
        seen.add(code)
        features.append({"code": code, "d": path_data(shape, origin, scale), "inset": inset})
        areas.append(shape.area)
        if inset:
            # One frame per overseas département, one around the enlarged Paris.
            key = inset if inset == "paris" else code
            x0, y0, x1, y1 = shape.bounds
            old = insets.get(key, [x0, y0, x1, y1])
            insets[key] = [min(old[0], x0), min(old[1], y0), max(old[2], x1), max(old[3], y1)]
    height = (bottom - top + 2 * margin) * scale
    names = {code: NAME_FIXES.get(code, name) for code, name in department_names().items()}
    output = {
        "source": "pygal-maps-fr 1.1.0 (LGPL-3.0-or-later), via scripts/build_france_map.py",
        "width": WIDTH,
        "height": round(height, 1),
        "names": {code: names[code] for code in sorted(names) if code not in SKIPPED},
        "insets": {
            key: [round((value - origin[i % 2]) * scale, 1) for i, value in enumerate(box)]
            for key, box in insets.items()
        },
        # Largest first, so that an enclave (Paris inside its suburbs) is drawn on top.
        "shapes": [f for _, f in sorted(zip(areas, features, strict=True), key=lambda p: -p[0])],
    }
    OUTPUT.write_text(json.dumps(output, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{len(features)} shapes, {OUTPUT.stat().st_size // 1024} KiB → {OUTPUT}")


if __name__ == "__main__":
    main()
