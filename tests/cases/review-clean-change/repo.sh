# Five changed lines and no secrets: size/XS, a stale size label removed.
set -eu
git init -q -b main
printf 'a\nb\nc\n' > notes.txt
git add -A && git commit -q -m base
printf 'a\nB\nc\nd\ne\nf\n' > notes.txt
echo 'password = "${DB_PASSWORD}"' > settings.env
git add -A && git commit -q -m change
