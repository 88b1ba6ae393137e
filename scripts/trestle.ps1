# Trestle launcher for Windows (PowerShell 5.1+ or PowerShell 7).
# Finds a JDK 25, builds the project on first use (or when sources changed), then runs the CLI.
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent (Split-Path -Parent $MyInvocation.MyCommand.Path)

function Get-JavaMajor([string]$jdkHome) {
    $java = Join-Path $jdkHome 'bin\java.exe'
    if (-not (Test-Path $java)) { return 0 }
    $props = & $java -XshowSettings:properties -version 2>&1 | Out-String
    if ($props -match 'java\.specification\.version = (\d+)') { return [int]$Matches[1] }
    return 0
}

function Find-Jdk {
    $candidates = @()
    if ($env:JAVA_HOME) { $candidates += $env:JAVA_HOME }
    foreach ($pattern in @("$env:ProgramFiles\Eclipse Adoptium\jdk-2*", "$env:ProgramFiles\Java\jdk-2*",
                           "$env:ProgramFiles\Microsoft\jdk-2*", "$env:ProgramFiles\Zulu\zulu-2*",
                           "$env:ProgramFiles\BellSoft\LibericaJDK-2*", "$env:USERPROFILE\.jdks\*")) {
        $candidates += @(Get-ChildItem -Directory -Path $pattern -ErrorAction SilentlyContinue | ForEach-Object { $_.FullName })
    }
    $onPath = Get-Command java.exe -ErrorAction SilentlyContinue
    if ($onPath) { $candidates += (Split-Path -Parent (Split-Path -Parent $onPath.Source)) }
    foreach ($c in $candidates) {
        if ((Get-JavaMajor $c) -ge 25) { return $c }
    }
    Write-Error "trestle: no JDK 25 found (looked at JAVA_HOME, Program Files, ~/.jdks and PATH).`nfix: install a JDK 25 (e.g. Eclipse Temurin 25) and set JAVA_HOME to its folder."
    exit 1
}

$env:JAVA_HOME = Find-Jdk
$jar = Join-Path $root 'server\target\trestle.jar'
$stale = -not (Test-Path $jar)
if (-not $stale) {
    $jarTime = (Get-Item $jar).LastWriteTime
    $newer = Get-ChildItem -Path $root -Recurse -File -Include *.java, pom.xml -ErrorAction SilentlyContinue |
        Where-Object { $_.FullName -notmatch '\\target\\' -and $_.LastWriteTime -gt $jarTime } | Select-Object -First 1
    $stale = $null -ne $newer
}
if ($stale -and $env:TRESTLE_NO_BUILD -ne '1') {
    if (-not (Get-Command mvn -ErrorAction SilentlyContinue)) {
        Write-Error "trestle: $jar is missing or stale and Maven (mvn) is not installed.`nfix: install Apache Maven 3.8+ and run this command again."
        exit 1
    }
    Write-Host 'trestle: building (first run or sources changed)...'
    Push-Location $root
    try {
        $env:MAVEN_OPTS = "$env:MAVEN_OPTS --sun-misc-unsafe-memory-access=allow"
        & mvn -B -q -DskipTests package -pl server -am
        if ($LASTEXITCODE -ne 0) { Write-Error 'trestle: the build failed; see the Maven output above.'; exit 1 }
    } finally { Pop-Location }
}

$flags = @('--add-modules', 'jdk.incubator.vector', '--enable-native-access=ALL-UNNAMED',
           '-Dorg.lwjgl.system.memoryBackend=ffm', '-Xss8m')
if ($env:TRESTLE_JAVA_OPTS) { $flags += $env:TRESTLE_JAVA_OPTS -split '\s+' }
& (Join-Path $env:JAVA_HOME 'bin\java.exe') @flags -jar $jar @args
exit $LASTEXITCODE
