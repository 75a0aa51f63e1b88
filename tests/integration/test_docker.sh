#!/usr/bin/env bash
# test_docker.sh — contrib/docker without a container engine: `docker-compose config` accepts the
# compose file and refuses it without its secrets; every brotr service goes through PgBouncer and Tor
# and publishes only on loopback; the Dockerfile's stages are debian:12-slim run as non-root users,
# its runtime packages hold every library the binary needs, and what it copies exists; the
# environment the services get is a configuration brotr accepts, and Tor accepts the options of its
# stage.
set -u
cd "$(dirname "$0")/../.."
: "${BUILD:=build}" "${BROTR:=$PWD/$BUILD/brotr}"
source tests/harness/tap.sh
t_plan 13
D=contrib/docker
T=$(mktemp -d /tmp/brotr-docker.XXXXXX)
trap 'rm -rf "$T"' EXIT
compose() { docker-compose --project-directory "$D" -f "$D/docker-compose.yml" "$@"; }

t_status "docker-compose config refuses the file without its secrets" 1 env -u POSTGRES_PASSWORD -u BROTR_DATABASE_PASSWORD \
	docker-compose --project-directory "$T" -f "$D/docker-compose.yml" config
t_like "naming the missing one" "$T_ERR" 'BROTR_DATABASE_PASSWORD in \.env|POSTGRES_PASSWORD in \.env'
export POSTGRES_PASSWORD=test-admin BROTR_DATABASE_PASSWORD=test-writer
t_status "docker-compose config accepts it" 0 compose config
printf '%s\n' "$T_OUT" >"$T/config.yml"
t_set "PostgreSQL, PgBouncer, Tor, db init, the initializer and the services" "$(compose config --services 2>/dev/null)" \
	"$(printf '%s\n' postgres pgbouncer tor db-init initializer monitor synchronizer finder validator)"

# facts about each brotr service, one line each: name image user-visible settings
python3 - "$T/config.yml" >"$T/services.txt" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
for name, s in sorted(c["services"].items()):
    if s.get("image") != "brotr:latest":
        continue
    e = s.get("environment", {})
    ports = ",".join(p.get("host_ip", "") if isinstance(p, dict) else str(p).split(":")[0] for p in s.get("ports", []))
    print(name, e.get("BROTR_DATABASE_HOST"), e.get("BROTR_DATABASE_PORT"), e.get("BROTR_TOR_SOCKS_PROXY"),
          e.get("BROTR_DATABASE_ADMIN_HOST", "-"), s.get("read_only"), ",".join(s.get("cap_drop", [])), ports or "-")
EOF
t_is "brotr services: through PgBouncer and Tor, read-only, no capabilities, loopback ports only" \
	"$(cut -d' ' -f2-7 "$T/services.txt" | sort -u)" "pgbouncer 6432 tor:9050 - True ALL
pgbouncer 6432 tor:9050 postgres True ALL"
t_is "ports are published on 127.0.0.1 only" "$(cut -d' ' -f8 "$T/services.txt" | tr ',' '\n' | grep -v '^-$' | sort -u)" "127.0.0.1"

# --- the Dockerfile ------------------------------------------------------------------------------
t_is "every stage is debian:12-slim" "$(sed -n 's/^FROM \([^ ]*\) AS .*/\1/p' "$D/Dockerfile" | sort -u)" "debian:12-slim"
finals=$(sed -n 's/^FROM .* AS \(.*\)/\1/p' "$D/Dockerfile" | grep -vx build)
users=$(awk '/^FROM /{stage=$4} /^USER /{print stage, $2}' "$D/Dockerfile")
t_is "each runtime stage runs as its own unprivileged user" "$users" "brotr brotr
pgbouncer postgres
tor debian-tor"
t_is "the runtime stages are the compose file's targets" "$(echo "$finals" | sort)" \
	"$(sed -n 's/.*target: \([a-z]*\) }.*/\1/p' "$D/docker-compose.yml" | sort -u)"
runtime_pkgs=$(awk '/^FROM .* AS brotr/{on=1} /^FROM .* AS pgbouncer/{on=0} on' "$D/Dockerfile" | tr ' \\' '\n\n' | grep -E '^lib|^ca-')
needed=$(objdump -p "$BROTR" | awk '/NEEDED/{print $2}' | grep -vE '^(libc|libm|libpthread|libdl|librt)\.so' |
	while read -r so; do dpkg -S "*/$so" 2>/dev/null | head -n 1 | cut -d: -f1; done | sort -u)
[ -n "$needed" ] || needed="(no library found: objdump or dpkg failed)"
if [[ $BROTR == */san-* ]]; then # it links the sanitizers' runtimes, and more (no --as-needed with them)
	t_pass "its runtime packages hold every library the binary links # SKIP sanitizer build"
else
	t_is "its runtime packages hold every library the binary links" "$(comm -23 <(echo "$needed") <(echo "$runtime_pkgs" | sort -u))" ""
fi
missing=""
for src in $(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' "$D/Dockerfile") $(sed -n 's/^!//p' "$D/Dockerfile.dockerignore"); do
	[ -e "$src" ] || missing="$missing $src"
done
t_is "what it copies exists" "$missing" ""

# --- what the services get is a configuration brotr and Tor accept --------------------------------
cfg_env=$(python3 - "$T/config.yml" "$PWD" <<'EOF'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
e = c["services"]["monitor"]["environment"]
for k, v in sorted(e.items()):
    print("%s=%s" % (k, str(v).replace("/usr/share/brotr", sys.argv[2])))
EOF
)
mapfile -t envs <<<"$cfg_env"
t_status "brotr accepts the services' environment (config show)" 0 env -i "${envs[@]}" "$BROTR" config show
# the tor stage's ENTRYPOINT, with the image's paths mapped to the repository's
mapfile -t tor_cmd < <(python3 - "$D/Dockerfile" "$T/tor" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
stage = text[text.index(" AS tor\n"):]
cmd = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", stage, re.M).group(1))
m = {"/etc/tor/brotr-torrc": "tor/torrc", "/var/lib/brotr-tor": sys.argv[2]}
print("\n".join([cmd[0], "--verify-config"] + [m.get(a, a) for a in cmd[1:]]))
EOF
)
mkdir -m 700 "$T/tor"
t_status "Tor accepts tor/torrc with the options of the tor stage" 0 "${tor_cmd[@]}"

t_done
