"""The static build on its own: hashed names, rewritten references, compressed twins, manifest."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
from pathlib import Path

import brotli

from traded_app.static_assets import DIST, MANIFEST, Manifest, build

HASHED = re.compile(r"^dist/.+\.[0-9a-f]{12}\.[a-z]+$")
CSS = (
    "body { background: url('../images/logo.svg') }\n"
    ".a { background: url(/static/images/logo.svg#mark) }\n"
    '.b { background: url("data:image/png;base64,AAAA") }\n'
    ".c { background: url(/static/images/missing.png) }\n"
) + ".padding { margin: 0 }\n" * 200
JS = (
    'import { lib } from "/static/vendor/lib.js";\n'
    'import "./util.js";\n'
    'const later = () => import("./util.js");\n'
    "lib();\n"
) * 20


def make_static(root: Path) -> Path:
    files = {
        "vendor/app.css": CSS,
        "vendor/lib.js": "export function lib() { return 1 }\n" * 50,
        "vendor/.stamp": "",
        "js/app.js": JS,
        "js/util.js": "console.log('util')\n",
        "images/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'></svg>\n",
        "src/app.scss": "$x: 1;\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def dist_text(root: Path, manifest: dict[str, str], name: str) -> str:
    return (root / manifest[name]).read_text()


def test_every_static_file_gets_a_hashed_copy_and_the_manifest_lists_them(tmp_path: Path) -> None:
    root = make_static(tmp_path)
    manifest = build(root)

    assert sorted(manifest) == [
        "images/logo.svg",
        "js/app.js",
        "js/util.js",
        "vendor/app.css",
        "vendor/lib.js",
    ]  # not the Sass sources, nor make's stamp
    assert all(HASHED.match(hashed) for hashed in manifest.values())
    assert manifest["vendor/app.css"].startswith("dist/vendor/app.")
    on_disk = json.loads((root / DIST / MANIFEST).read_text())
    assert on_disk == {"files": manifest}
    # The plain files stay where they were, untouched (the PDFs read their CSS from disk).
    assert (root / "vendor/app.css").read_text() == CSS
    assert (root / "js/app.js").read_text() == JS


def test_references_between_files_point_at_the_hashed_copies(tmp_path: Path) -> None:
    root = make_static(tmp_path)
    manifest = build(root)
    logo = Path(manifest["images/logo.svg"]).name
    lib = Path(manifest["vendor/lib.js"]).name
    util = Path(manifest["js/util.js"]).name

    css = dist_text(root, manifest, "vendor/app.css")
    assert f"url('../images/{logo}')" in css
    assert f"url(../images/{logo}#mark)" in css
    assert 'url("data:image/png;base64,AAAA")' in css
    assert "url(/static/images/missing.png)" in css  # not a static file: left alone
    js = dist_text(root, manifest, "js/app.js")
    assert f'import {{ lib }} from "../vendor/{lib}";' in js
    assert f'import "./{util}";' in js
    assert f'import("./{util}")' in js
    # Each copy is named by its own content, references included.
    for name, hashed in manifest.items():
        digest = hashlib.sha256((root / hashed).read_bytes()).hexdigest()
        assert hashed.rsplit(".", 2)[1] == digest[:12], name


def test_copies_worth_compressing_have_gzip_and_brotli_twins(tmp_path: Path) -> None:
    root = make_static(tmp_path)
    manifest = build(root)
    for name in ("vendor/app.css", "js/app.js", "vendor/lib.js"):
        copy = root / manifest[name]
        data = copy.read_bytes()
        assert gzip.decompress((root / f"{manifest[name]}.gz").read_bytes()) == data
        assert brotli.decompress((root / f"{manifest[name]}.br").read_bytes()) == data
        assert (root / f"{manifest[name]}.gz").stat().st_size < len(data)
    assert not (root / f"{manifest['js/util.js']}.gz").exists()  # too small to gain


def test_a_changed_file_gets_a_new_name_and_so_do_the_files_that_load_it(tmp_path: Path) -> None:
    root = make_static(tmp_path)
    first = build(root)
    assert build(root) == first  # the same content, the same names

    (root / "vendor/lib.js").write_text("export function lib() { return 2 }\n")
    second = build(root)

    assert second["vendor/lib.js"] != first["vendor/lib.js"]
    assert second["js/app.js"] != first["js/app.js"]  # it imports lib.js
    assert second["vendor/app.css"] == first["vendor/app.css"]
    assert second["images/logo.svg"] == first["images/logo.svg"]
    assert not (root / first["vendor/lib.js"]).exists()  # the build replaced the last one
    assert (root / second["vendor/lib.js"]).read_text() == "export function lib() { return 2 }\n"


def test_a_reference_cycle_is_built_with_one_side_pointing_at_the_plain_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.css").write_text('@import "b.css";\n')
    (tmp_path / "b.css").write_text('@import "a.css";\n')
    manifest = build(tmp_path)
    a, b = dist_text(tmp_path, manifest, "a.css"), dist_text(tmp_path, manifest, "b.css")
    assert a == f'@import "./{Path(manifest["b.css"]).name}";\n'
    assert b == '@import "../a.css";\n'  # dist/b.css -> the plain a.css


def test_without_a_manifest_the_plain_name_is_used(tmp_path: Path) -> None:
    root = make_static(tmp_path)
    assert Manifest(root).name("vendor/app.css") == "vendor/app.css"
    manifest = build(root)
    assert Manifest(root).name("vendor/app.css") == manifest["vendor/app.css"]
    assert Manifest(root).name("not/built.css") == "not/built.css"


def test_in_development_a_file_edited_since_the_build_is_linked_by_its_plain_name(
    tmp_path: Path,
) -> None:
    root = make_static(tmp_path)
    manifest = build(root)
    watching, fixed = Manifest(root, watch=True), Manifest(root)
    assert watching.name("js/app.js") == manifest["js/app.js"]

    built_at = (root / DIST / MANIFEST).stat().st_mtime
    os.utime(root / "js/app.js", (built_at + 5, built_at + 5))
    assert watching.name("js/app.js") == "js/app.js"
    assert fixed.name("js/app.js") == manifest["js/app.js"]

    rebuilt = build(root)  # picked up without a restart
    os.utime(root / DIST / MANIFEST, (built_at + 10, built_at + 10))
    assert watching.name("js/app.js") == rebuilt["js/app.js"]
