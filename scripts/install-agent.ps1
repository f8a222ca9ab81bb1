# Installs the ResourceTracker agent on Windows from your rt-server and starts enrollment.
#
#   powershell -ExecutionPolicy Bypass -File install-agent.ps1 -Server https://rt.example.com
#   ... -Server https://rt.example.com -- --non-interactive --token T --install windows
#
# Downloads rt-agent-windows-<arch>.exe and its .sha256 from <server>/downloads/, verifies the
# SHA-256, installs to "$env:ProgramFiles\ResourceTracker\rt-agent.exe" (override with
# -InstallDir or RT_INSTALL_BIN_DIR) and runs `rt-agent enroll` with the remaining arguments.
# Run from an elevated prompt for a machine-wide install (the scheduled task runs as SYSTEM).
# Not exercised by the automated tests (they run on Linux); kept line-for-line parallel to
# install-agent.sh.
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true, Position = 0)][string]$Server,
    [string]$InstallDir = $(if ($env:RT_INSTALL_BIN_DIR) { $env:RT_INSTALL_BIN_DIR } else { Join-Path $env:ProgramFiles 'ResourceTracker' }),
    [switch]$NoEnroll,
    [Parameter(ValueFromRemainingArguments = $true)][string[]]$EnrollArgs = @()
)
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

function Fail($msg) { Write-Error "install-agent: $msg"; exit 1 }

$Server = $Server.TrimEnd('/')
if ($Server -notmatch '^https?://') { Fail "the server URL must start with http:// or https:// (got '$Server')" }

$arch = switch ($env:PROCESSOR_ARCHITECTURE) {
    'AMD64' { 'x86_64' }
    'ARM64' { 'aarch64' }
    default { Fail "unsupported CPU architecture $($env:PROCESSOR_ARCHITECTURE)" }
}
if ($env:RT_AGENT_PLATFORM) { $platform = $env:RT_AGENT_PLATFORM } else { $platform = "windows-$arch" }
$asset = "rt-agent-$platform.exe"

$tmp = Join-Path ([System.IO.Path]::GetTempPath()) ("rt-agent-install-" + [guid]::NewGuid())
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
    [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
    Write-Host "Downloading $asset from $Server/downloads/ ..."
    $exe = Join-Path $tmp 'rt-agent.exe'
    $sum = Join-Path $tmp 'rt-agent.exe.sha256'
    try {
        Invoke-WebRequest -UseBasicParsing -Uri "$Server/downloads/$asset" -OutFile $exe
        Invoke-WebRequest -UseBasicParsing -Uri "$Server/downloads/$asset.sha256" -OutFile $sum
    } catch {
        Fail "cannot download $Server/downloads/$asset (is this platform published on the server?): $_"
    }
    $expected = ((Get-Content -Raw $sum).Trim() -split '\s+')[0].ToLowerInvariant()
    $actual = (Get-FileHash -Algorithm SHA256 -Path $exe).Hash.ToLowerInvariant()
    if (-not $expected -or $expected -ne $actual) {
        Fail "checksum mismatch for ${asset}: expected '$expected', got '$actual'; nothing was installed"
    }
    Write-Host "Checksum verified (sha256 $actual)."

    New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
    $target = Join-Path $InstallDir 'rt-agent.exe'
    $staged = Join-Path $InstallDir 'rt-agent.exe.new'
    Copy-Item -Force $exe $staged
    Move-Item -Force $staged $target
    Write-Host "Installed $target ($(& $target --version))."
} finally {
    Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
}

if ($NoEnroll -or $env:RT_INSTALL_NO_ENROLL -eq '1') {
    Write-Host "Enroll later with: `"$target`" enroll --server $Server"
    exit 0
}
if (-not ($EnrollArgs -contains '--server')) { $EnrollArgs = @('--server', $Server) + $EnrollArgs }
& $target enroll @EnrollArgs
exit $LASTEXITCODE
