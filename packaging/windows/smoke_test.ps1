# Smoke-test the Windows installer: install per-user into a temporary folder, run the same
# checks as on Linux (packaging/smoke_checks.py), uninstall, and check the data stays.
#   pwsh packaging/windows/smoke_test.ps1 dist\Reverie-0.1.0-windows-x64-setup.exe
param([Parameter(Mandatory = $true)][string]$Artifact)
$ErrorActionPreference = "Stop"

$repo = Resolve-Path (Join-Path $PSScriptRoot "..\..")
$Artifact = Resolve-Path $Artifact
$name = Split-Path $Artifact -Leaf
$root = Join-Path ([IO.Path]::GetTempPath()) ("reverie-smoke-" + [Guid]::NewGuid().ToString("N"))
$app = Join-Path $root "app"
$homeDir = Join-Path $root "home"
New-Item -ItemType Directory -Force -Path $app, $homeDir | Out-Null

function Fail([string]$why) { Write-Error "smoke_test: FAILED ($name): $why"; exit 1 }

$p = Start-Process -Wait -PassThru -FilePath $Artifact -ArgumentList @(
    "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART", "/CURRENTUSER", "/DIR=`"$app`"")
if ($p.ExitCode -ne 0) { Fail "the installer exited with $($p.ExitCode)" }
foreach ($f in @("Reverie.exe", "reverie-cli.exe", "unins000.exe",
                 "_internal\llama_cpp\lib\llama.dll", "_internal\llama_cpp\lib\vcomp140.dll")) {
    if (-not (Test-Path (Join-Path $app $f))) { Fail "the installation has no $f" }
}
$menu = Join-Path $env:APPDATA "Microsoft\Windows\Start Menu\Programs\Reverie.lnk"
if (-not (Test-Path $menu)) { Fail "no Start-menu entry at $menu" }

$version = (Select-String -Path (Join-Path $repo "assistant\__init__.py") -Pattern '__version__ = "(.*)"').Matches[0].Groups[1].Value
New-Item -ItemType Directory -Force -Path (Join-Path $repo "dist") | Out-Null
python (Join-Path $repo "packaging\smoke_checks.py") --exe (Join-Path $app "reverie-cli.exe") `
    --gui-exe (Join-Path $app "Reverie.exe") --home $homeDir --version $version `
    --screenshot (Join-Path $repo "dist\smoke-$name.png")
if ($LASTEXITCODE -ne 0) { Fail "see the messages above" }

$data = Join-Path $env:LOCALAPPDATA "Reverie"
# The Inno uninstaller re-launches itself from %TEMP% and returns at once: wait until it
# has removed its own files.
Start-Process -Wait -FilePath (Join-Path $app "unins000.exe") -ArgumentList "/VERYSILENT", "/SUPPRESSMSGBOXES"
$deadline = (Get-Date).AddSeconds(120)
while ((Test-Path (Join-Path $app "Reverie.exe")) -and (Get-Date) -lt $deadline) { Start-Sleep 1 }
if (Test-Path (Join-Path $app "Reverie.exe")) { Fail "the uninstaller did not remove Reverie within 120 s" }
if (Test-Path $menu) { Fail "the Start-menu entry is still there after uninstalling" }
if (-not (Test-Path (Join-Path $data "reverie.db"))) { Fail "uninstalling removed the person's data" }
Write-Output "smoke_test: $name passed"
