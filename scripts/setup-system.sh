#!/usr/bin/env bash
# Installs the Debian packages xstilts needs (LaTeX for the paper, poppler for
# pdftotext, Chromium for the headless report test). Idempotent: it installs
# nothing when every package is already present.
set -euo pipefail
PKGS=(texlive-latex-base texlive-latex-recommended texlive-fonts-recommended
      latexmk lmodern poppler-utils chromium libglib2.0-data libgtk2.0-common)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[setup-system] all Debian packages present"; exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "[setup-system] installing: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "[setup-system] done"
