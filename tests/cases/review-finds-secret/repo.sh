# A base commit, then a change that adds 45 lines, one of them a GitHub token.
# The token is assembled at run time so no literal secret sits in this repo.
set -eu
git init -q -b main
echo "# app" > README.md
git add -A && git commit -q -m base
mkdir -p src
for i in $(seq 1 44); do echo "line $i = $i"; done > src/app.py
token="ghp_$(printf 'Zq8xW2pL7vR4tY9u%.0s' 1 2)abcd"
sed -i "12a GITHUB_TOKEN = \"$token\"" src/app.py
git add -A && git commit -q -m "add app"
