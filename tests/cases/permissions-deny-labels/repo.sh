# Any small change; the workflow grants the size step nothing.
set -eu
git init -q -b main
echo one > a.txt && git add -A && git commit -q -m base
echo two >> a.txt && git add -A && git commit -q -m change
