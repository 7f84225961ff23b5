#!/usr/bin/env bash
# Wrap the PyInstaller bundle (dist/reverie, from `make package`) in an AppImage:
#   packaging/linux/make_appimage.sh PATH/TO/appimagetool  -> dist/Reverie-<version>-x86_64.AppImage
# appimagetool is not in any package registry, so this runs in the CI workflow, which
# downloads it from the AppImage project's releases.
set -euo pipefail
tool="${1:?usage: make_appimage.sh APPIMAGETOOL}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
[ -x "$repo/dist/reverie/reverie" ] || { echo "make_appimage: run make package first" >&2; exit 2; }
version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$repo/assistant/__init__.py")"

appdir="$repo/build/Reverie.AppDir"
rm -rf "$appdir"
mkdir -p "$appdir/usr/lib" "$appdir/usr/share/applications" "$appdir/usr/share/metainfo" \
    "$appdir/usr/share/icons/hicolor/256x256/apps"
cp -a "$repo/dist/reverie" "$appdir/usr/lib/reverie"
cat > "$appdir/AppRun" <<'APPRUN'
#!/bin/sh
here="$(dirname "$(readlink -f "$0")")"
exec "$here/usr/lib/reverie/reverie" "$@"
APPRUN
chmod 755 "$appdir/AppRun"
cp "$here/reverie.desktop" "$appdir/reverie.desktop"
cp "$here/reverie.desktop" "$appdir/usr/share/applications/reverie.desktop"
cp "$repo/build/icons/reverie-256.png" "$appdir/reverie.png"
cp "$repo/build/icons/reverie-256.png" "$appdir/usr/share/icons/hicolor/256x256/apps/reverie.png"
ln -sf reverie.png "$appdir/.DirIcon"
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$(date -u +%Y-%m-%d)/" \
    "$here/app.reverie.Reverie.metainfo.xml" > "$appdir/usr/share/metainfo/reverie.appdata.xml"

out="$repo/dist/Reverie-$version-x86_64.AppImage"
# APPIMAGE_EXTRACT_AND_RUN: appimagetool is itself an AppImage; this avoids needing FUSE.
APPIMAGE_EXTRACT_AND_RUN=1 ARCH=x86_64 VERSION="$version" "$tool" --no-appstream "$appdir" "$out"
rm -rf "$appdir"
echo "make_appimage: $out"
