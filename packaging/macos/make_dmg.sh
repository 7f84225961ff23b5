#!/usr/bin/env bash
# macOS: sign dist/Reverie.app (when a Developer ID is configured), wrap it in a .dmg,
# then notarize and staple it (when notarization credentials are configured).
#   packaging/macos/make_dmg.sh            -> dist/Reverie-<version>-macos-<arch>.dmg
# Environment (all optional; without them the app keeps PyInstaller's ad-hoc signature,
# which runs on the machine that downloads it only after the person allows it in
# System Settings > Privacy & Security):
#   MACOS_SIGN_IDENTITY   "Developer ID Application: NAME (TEAMID)", already in a keychain
#   NOTARY_APPLE_ID, NOTARY_TEAM_ID, NOTARY_PASSWORD (an app-specific password)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
app="$repo/dist/Reverie.app"
[ -d "$app" ] || { echo "make_dmg: build the app first (python packaging/build.py)" >&2; exit 2; }
version="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$repo/assistant/__init__.py")"
dmg="$repo/dist/Reverie-$version-macos-$(uname -m).dmg"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    echo "make_dmg: signing with $MACOS_SIGN_IDENTITY"
    codesign --force --deep --timestamp --options runtime \
        --entitlements "$here/entitlements.plist" --sign "$MACOS_SIGN_IDENTITY" "$app"
    codesign --verify --deep --strict --verbose=2 "$app"
else
    echo "make_dmg: MACOS_SIGN_IDENTITY is not set: the app keeps its ad-hoc signature"
fi

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
rm -f "$dmg"
hdiutil create -volname "Reverie $version" -srcfolder "$staging" -fs HFS+ -format UDZO \
    -ov "$dmg"

if [ -n "${MACOS_SIGN_IDENTITY:-}" ]; then
    codesign --force --timestamp --sign "$MACOS_SIGN_IDENTITY" "$dmg"
fi
if [ -n "${MACOS_SIGN_IDENTITY:-}" ] && [ -n "${NOTARY_APPLE_ID:-}" ]; then
    echo "make_dmg: notarizing (this waits for Apple's answer)"
    xcrun notarytool submit "$dmg" --apple-id "$NOTARY_APPLE_ID" --team-id "$NOTARY_TEAM_ID" \
        --password "$NOTARY_PASSWORD" --wait
    xcrun stapler staple "$dmg"
else
    echo "make_dmg: notarization skipped (needs MACOS_SIGN_IDENTITY and NOTARY_* credentials)"
fi
echo "make_dmg: $dmg"
