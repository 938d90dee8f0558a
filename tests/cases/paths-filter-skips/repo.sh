# The change touches docs only; the workflow watches data/.
set -eu
git init -q -b main
echo one > README.md && git add -A && git commit -q -m base
echo two >> README.md && git add -A && git commit -q -m docs
