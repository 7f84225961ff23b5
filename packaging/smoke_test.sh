#!/usr/bin/env bash
# Smoke-test one Reverie artifact from a fresh temporary root and a fresh HOME:
#   packaging/smoke_test.sh dist/reverie_0.1.0_amd64.deb
#   packaging/smoke_test.sh dist/reverie-0.1.0-linux-x86_64.tar.gz
#   packaging/smoke_test.sh dist/Reverie-0.1.0-x86_64.AppImage          (CI workflow)
#   packaging/smoke_test.sh dist/Reverie-0.1.0-macos-arm64.dmg          (macOS)
#   packaging/smoke_test.sh dist/reverie-0.1.0-py3-none-any.whl         (pip, fresh venv)
# Checks (packaging/smoke_checks.py): --version, doctor --json with the bundled model,
# one ask --json, and the window (under Xvfb on Linux) with a screenshot saved to
# dist/smoke-<artifact>.png. Exits non-zero with a message on the first failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
artifact="${1:?usage: smoke_test.sh ARTIFACT (.deb, .tar.gz, .AppImage, .dmg or .whl)}"
[ -f "$artifact" ] || { echo "smoke_test: $artifact does not exist" >&2; exit 2; }
artifact="$(cd "$(dirname "$artifact")" && pwd)/$(basename "$artifact")"
name="$(basename "$artifact")"
python="${PYTHON:-python3}"

root="$(mktemp -d "${TMPDIR:-/tmp}/reverie-smoke.XXXXXX")"
mounted=""
cleanup() {
    [ -n "$mounted" ] && hdiutil detach "$mounted" -quiet || true
    rm -rf "$root"
}
trap cleanup EXIT
mkdir -p "$root/fs" "$root/home"

fail() { echo "smoke_test: FAILED ($name): $*" >&2; exit 1; }

case "$name" in
    *.deb)
        dpkg-deb -x "$artifact" "$root/fs"
        exe="$root/fs/opt/reverie/reverie"
        # What the package installs besides the bundle.
        [ "$(readlink "$root/fs/usr/bin/reverie")" = /opt/reverie/reverie ] \
            || fail "/usr/bin/reverie is not a link to /opt/reverie/reverie"
        for f in usr/share/applications/reverie.desktop \
                 usr/share/metainfo/app.reverie.Reverie.metainfo.xml \
                 usr/share/icons/hicolor/scalable/apps/reverie.svg \
                 usr/share/icons/hicolor/48x48/apps/reverie.png \
                 usr/share/icons/hicolor/256x256/apps/reverie.png; do
            [ -s "$root/fs/$f" ] || fail "the package has no $f"
        done
        dpkg-deb --field "$artifact" Package Version Architecture Depends >/dev/null \
            || fail "the control file cannot be read"
        if command -v desktop-file-validate >/dev/null; then
            desktop-file-validate "$root/fs/usr/share/applications/reverie.desktop" \
                || fail "the .desktop file is not valid"
        fi
        if command -v appstreamcli >/dev/null; then
            appstreamcli validate --no-net --explain \
                "$root/fs/usr/share/metainfo/app.reverie.Reverie.metainfo.xml" \
                || fail "the AppStream metadata is not valid"
        fi
        # The data must not live in the package: removing it leaves the person's files.
        if dpkg-deb -c "$artifact" | grep -E '\./(home|root|var/lib/reverie)'; then
            fail "the package ships files in a home or state folder"
        fi
        ;;
    *.tar.gz)
        tar -xzf "$artifact" -C "$root/fs"
        exe="$(echo "$root"/fs/reverie-*/reverie)"
        ;;
    *.AppImage)
        cp "$artifact" "$root/fs/Reverie.AppImage"
        chmod +x "$root/fs/Reverie.AppImage"
        # Extracting avoids needing FUSE on the test machine; AppRun is what the image runs.
        (cd "$root/fs" && ./Reverie.AppImage --appimage-extract >/dev/null)
        exe="$root/fs/squashfs-root/AppRun"
        ;;
    *.dmg)
        mounted="$root/mnt"
        hdiutil attach "$artifact" -nobrowse -readonly -mountpoint "$mounted" -quiet
        cp -R "$mounted/Reverie.app" "$root/fs/"
        exe="$root/fs/Reverie.app/Contents/MacOS/reverie"
        ;;
    *.whl)
        # What `pip install reverie` gives: a fresh venv, not editable, nothing of this
        # checkout on sys.path (the checks run from another folder with a clean env).
        "$python" -m venv "$root/fs/venv"
        "$root/fs/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            "$artifact" || fail "pip could not install the wheel"
        exe="$root/fs/venv/bin/reverie"
        ;;
    *) echo "smoke_test: unknown artifact type: $name" >&2; exit 2 ;;
esac
[ -x "$exe" ] || fail "no executable at $exe"

version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$repo/assistant/__init__.py")"
mkdir -p "$repo/dist"
echo "smoke_test: $name unpacked into $root/fs, HOME=$root/home"
"$python" "$here/smoke_checks.py" --exe "$exe" --home "$root/home" --version "$version" \
    --screenshot "$repo/dist/smoke-$name.png" || fail "see the messages above"
echo "smoke_test: $name passed"
