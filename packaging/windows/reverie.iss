; Inno Setup script: a per-user Reverie installer (no administrator rights needed).
;   iscc /DAppVersion=0.1.0 packaging\windows\reverie.iss
; Input: dist\reverie\ (python packaging\build.py bundle). Output:
; dist\Reverie-<version>-windows-x64-setup.exe. Installs to
; %LOCALAPPDATA%\Programs\Reverie, adds a Start-menu entry and an uninstaller. The person's
; data (%LOCALAPPDATA%\Reverie) is never removed by the uninstaller.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#define RepoRoot AddBackslash(SourcePath) + "..\.."

[Setup]
AppId={{6B3F0E52-6F0B-4D39-9B7C-2E7D5A1C9F41}
AppName=Reverie
AppVersion={#AppVersion}
AppVerName=Reverie {#AppVersion}
AppPublisher=The Reverie developers
AppPublisherURL=https://github.com/reverie-app/reverie
DefaultDirName={autopf}\Reverie
DefaultGroupName=Reverie
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#RepoRoot}\dist
OutputBaseFilename=Reverie-{#AppVersion}-windows-x64-setup
SetupIconFile={#RepoRoot}\build\icons\reverie.ico
UninstallDisplayIcon={app}\Reverie.exe
UninstallDisplayName=Reverie
Compression=lzma2/fast
SolidCompression=no
WizardStyle=modern
CloseApplications=yes
MinVersion=10.0

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#RepoRoot}\dist\reverie\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Reverie"; Filename: "{app}\Reverie.exe"; Comment: "A private assistant that thinks while you are away"
Name: "{autodesktop}\Reverie"; Filename: "{app}\Reverie.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\Reverie.exe"; Description: "{cm:LaunchProgram,Reverie}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only what the installer put there; the person's data folder is left alone.
Type: filesandordirs; Name: "{app}\_internal"
