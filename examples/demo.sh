#!/bin/sh
# `npm run demo`: the seed's nginx example from examples/seed-keys.yaml (file backend, no server), rendered
# into /tmp/myapp.conf and /tmp/myapp-hbs.conf and printed. Runs from the repository or from an installed
# package (it needs dist/, not the sources). Notes go to stderr; stdout is the rendered file alone.
set -e
cd "$(dirname "$0")/.."
echo '# tsconfd -onetime -backend file -file examples/seed-keys.yaml -confdir .' >&2
echo '# The seed resources say owner = "nginx": where no user nginx exists, tsconfd warns and keeps your uid (confd ignores owner).' >&2
node dist/cli.js -onetime -backend file -file examples/seed-keys.yaml -confdir . -log-level warn
cat /tmp/myapp.conf
cat >&2 <<'NOTE'
# This is the seed's template rendered byte for byte as confd renders it, including the seed's own mistake:
# `server 192.168.100.111:1005` has no `;`, so `nginx -t` rejects this file. For a real nginx, write
# `server {{.}}:{{$port}};` in templates/nginx.tmpl.
NOTE
