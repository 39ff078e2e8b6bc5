"""Static files served as a production service serves them: content-hashed names, compressed,
cached for a year, so a returning browser asks for none of them.

`build(root)` (`make assets`, or `python -m traded_app.static_assets`) copies every static file
to `dist/<path>/<name>.<hash>.<ext>` under the static folder, the hash taken from the content.
References between the copies (`url()` and `@import` in stylesheets, `import ... from` in
scripts) are rewritten to the hashed names first, so a file changes name when anything it loads
changes. Each copy worth compressing gets gzip and brotli twins (`.gz`, `.br`), and
`dist/manifest.json` maps every plain name to its hashed one.

`init_app(app)` puts WhiteNoise in front of the app for `/static/` (the compressed twin when the
browser accepts it; `Cache-Control: public, max-age=31536000, immutable` on hashed names, a short
max-age on the rest) and gives templates `static_url(filename)`: the hashed URL when the manifest
has the file, else the plain one (no manifest built, as in a fresh checkout; or, in development, a
file edited since the last build). The plain files stay where they are: the invoice PDFs read
static/invoices/print.css from disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, url_for
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from traded_app.config import PROJECT_ROOT

DIST = "dist"
MANIFEST = "manifest.json"
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_MAX_AGE = 60  # seconds: a plain name may change content at the next release
HASH_LENGTH = 12
# Folders of the static folder that are not served as they are: Sass sources and the build.
NOT_BUILT = frozenset({"src", DIST})
# A name with its content hash: app.0123456789ab.css (or a name without an extension).
HASHED_NAME = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}(\.[^./]+)?$")

CSS_REFERENCE = re.compile(
    r"""url\(\s*(?P<quote>['"]?)(?P<url>[^'")\s]+)(?P=quote)\s*\)"""
    r"""|@import\s+(?P<import_quote>['"])(?P<import_url>[^'"]+)(?P=import_quote)"""
)
JS_REFERENCE = re.compile(
    r"""\b(?:import|export)\s*(?:[\w$*{}\s,]*?\s*from\s*)?(?P<quote>['"])(?P<url>[^'"\s]+)(?P=quote)"""
    r"""|\bimport\(\s*(?P<import_quote>['"])(?P<import_url>[^'"\s]+)(?P=import_quote)"""
)
REFERENCES = {".css": CSS_REFERENCE, ".js": JS_REFERENCE, ".mjs": JS_REFERENCE}


# --- Building -------------------------------------------------------------------------------


def build(root: Path, url_path: str = "/static") -> dict[str, str]:
    """Hash, rewrite and compress every static file under `root` into `root/dist`, replacing the
    previous build; returns the manifest (plain name -> hashed name, both relative to `root`)."""
    root = root.resolve()
    sources = {path.relative_to(root).as_posix(): path for path in sorted(_files_to_build(root))}
    hashed: dict[str, str] = {}
    contents: dict[str, bytes] = {}
    building: set[str] = set()

    def hashed_name(name: str) -> str | None:
        """The dist name of `name`, built first if need be; None while it is being built (a
        reference cycle: the reference then points at the plain file)."""
        if name in hashed:
            return hashed[name]
        if name in building:
            return None
        building.add(name)
        data = sources[name].read_bytes()
        pattern = REFERENCES.get(Path(name).suffix.lower())
        if pattern is not None:
            data = _rewrite(name, data, pattern, sources, hashed_name, url_path)
        building.discard(name)
        hashed[name] = _with_hash(name, data)
        contents[hashed[name]] = data
        return hashed[name]

    for name in sources:
        hashed_name(name)

    staging = Path(tempfile.mkdtemp(prefix=".dist-", dir=root))
    try:
        compressor = Compressor(quiet=True)
        for name, data in contents.items():
            target = staging / Path(name).relative_to(DIST)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            if compressor.should_compress(target.name):
                compressor.compress(str(target))
        manifest = dict(sorted(hashed.items()))
        (staging / MANIFEST).write_text(json.dumps({"files": manifest}, indent=1) + "\n")
        _replace(root / DIST, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _files_to_build(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, folders, files in os.walk(root):
        here = Path(directory)
        folders[:] = [
            f for f in folders if not f.startswith(".") and not (here == root and f in NOT_BUILT)
        ]
        found.extend(
            here / f for f in files if not f.startswith(".") and not f.endswith((".gz", ".br"))
        )
    return found


def _with_hash(name: str, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    folder, _, filename = name.rpartition("/")
    stem, dot, extension = filename.rpartition(".")
    hashed = f"{stem}.{digest}.{extension}" if dot and stem else f"{filename}.{digest}"
    return posixpath.join(DIST, folder, hashed)


def _rewrite(
    name: str,
    data: bytes,
    pattern: re.Pattern[str],
    sources: Mapping[str, Path],
    hashed_name: Callable[[str], str | None],
    url_path: str,
) -> bytes:
    """`data` with each reference to another static file pointing at that file's hashed copy,
    relative to where this file's copy will live (so it works wherever the app is mounted)."""
    here = posixpath.join(DIST, posixpath.dirname(name))
    text = data.decode("utf-8", errors="surrogateescape")

    def replace(match: re.Match[str]) -> str:
        group = "url" if match.group("url") is not None else "import_url"
        url = match.group(group)
        path = re.split(r"[?#]", url, maxsplit=1)[0]
        query = url[len(path) :]  # a query or fragment stays as it is
        target = _resolve(name, path, url_path)
        if target is None or target not in sources:
            return match.group(0)
        copy = hashed_name(target) or target  # the plain file while a cycle is being built
        relative = posixpath.relpath(copy, here)
        if not relative.startswith("../"):
            relative = "./" + relative
        whole, offset = match.group(0), match.start()
        return (
            whole[: match.start(group) - offset]
            + relative
            + query
            + whole[match.end(group) - offset :]
        )

    return pattern.sub(replace, text).encode("utf-8", errors="surrogateescape")


def _resolve(name: str, path: str, url_path: str) -> str | None:
    """The static file a reference names, relative to the static folder; None if it names
    something else (another site, a data: URL, a page of the app)."""
    if not path or ":" in path or path.startswith("//"):
        return None
    prefix = url_path.rstrip("/") + "/"
    if path.startswith("/"):
        return path[len(prefix) :] if path.startswith(prefix) else None
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), path))
    return None if resolved.startswith("../") else resolved


def _replace(dist: Path, staging: Path) -> None:
    """Swap the new build in for the old one with two renames."""
    old = None
    if dist.exists():
        old = Path(tempfile.mkdtemp(prefix=".dist-old-", dir=dist.parent))
        old.rmdir()
        dist.rename(old)
    staging.rename(dist)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# --- Serving --------------------------------------------------------------------------------


class Manifest:
    """The hashed names of the last build, read from dist/manifest.json if there is one.

    `watch` (development) re-reads the manifest when it is rebuilt and gives the plain name of a
    file edited since, so an edit shows at the next reload without a rebuild."""

    def __init__(self, root: Path, watch: bool = False) -> None:
        self.root = root
        self.path = root / DIST / MANIFEST
        self.watch = watch
        self.files: dict[str, str] = {}
        self.built_at: float | None = None
        self._load()

    def _load(self) -> None:
        try:
            built_at = self.path.stat().st_mtime
            files = json.loads(self.path.read_text())["files"]
        except (OSError, ValueError, KeyError, TypeError):
            self.files, self.built_at = {}, None
            return
        self.files, self.built_at = dict(files), built_at

    def name(self, filename: str) -> str:
        """The name to link: the hashed copy's, or the plain one when there is none."""
        if self.watch:
            self._refresh()
        hashed = self.files.get(filename)
        if hashed is None:
            return filename
        if self.watch and self._edited_since_build(filename):
            return filename
        return hashed

    def _refresh(self) -> None:
        try:
            built_at: float | None = self.path.stat().st_mtime
        except OSError:
            built_at = None
        if built_at != self.built_at:
            self._load()

    def _edited_since_build(self, filename: str) -> bool:
        try:
            return (self.root / filename).stat().st_mtime > (self.built_at or 0)
        except OSError:
            return False


def init_app(app: Flask, headers: Mapping[str, str] | None = None) -> None:
    """Serve /static/ through WhiteNoise (adding `headers` to every file) and give templates
    `static_url`. `STATIC_FOLDER` in the config, if set, replaces the app's static folder."""
    if app.config.get("STATIC_FOLDER"):
        app.static_folder = str(app.config["STATIC_FOLDER"])
    if app.static_folder is None or app.static_url_path is None:
        raise RuntimeError("the app has no static folder")
    root = Path(app.static_folder)
    development = app.config["APP_ENV"] == "development"
    manifest = Manifest(root, watch=development)
    plain = "no-cache" if development else f"public, max-age={SHORT_MAX_AGE}"
    built = f"{app.static_url_path}/{DIST}/"
    extra = dict(headers or {})

    def add_headers(response_headers: Any, _path: str, url: str) -> None:
        hashed = url.startswith(built) and HASHED_NAME.search(url)
        response_headers["Cache-Control"] = IMMUTABLE if hashed else plain
        for name, value in extra.items():
            response_headers[name] = value

    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(root),
        prefix=app.static_url_path,
        autorefresh=development,
        max_age=None,
        allow_all_origins=False,
        add_headers_function=add_headers,
    )

    def static_url(filename: str) -> str:
        return url_for("static", filename=manifest.name(filename))

    app.add_template_global(static_url, "static_url")


def main(argv: list[str] | None = None) -> int:
    """`python -m traded_app.static_assets [STATIC_FOLDER]`: build, and say what was built."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else PROJECT_ROOT / "static"
    manifest = build(root)
    print(f"Built {len(manifest)} static files with hashed names into {root / DIST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
