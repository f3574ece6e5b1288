#!/usr/bin/env bash
# Load benchmark for Tollgate: token (client_credentials), token with an ID token
# (refresh, RS256-signed), introspection, UserInfo, discovery and JWKS, the sign-in page and a
# signed-in user's application list, measured with wrk against a release `tollgate serve` on 127.0.0.1,
# backed by a fresh SQLite file; then a protected route of the resource-server example
# (examples/resource-server), whose tokens are checked by cached remote introspection.
# See docs/PERFORMANCE.md.
#
#   bench/run.sh                                  # defaults: PORT=18000 DURATION=15
#   CARGO_TARGET_DIR=/tmp/bench-target DURATION=30 PORT=18001 bench/run.sh
#   ACCESS_TOKEN_FORMAT=jwt bench/run.sh          # RFC 9068 JWT access tokens
set -euo pipefail

PORT="${PORT:-18000}"
DURATION="${DURATION:-15}"
ACCESS_TOKEN_FORMAT="${ACCESS_TOKEN_FORMAT:-opaque}"
HOST=127.0.0.1 # loopback only, never anything else
THREADS=2
CONNECTIONS=16

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
BIN="$TARGET_DIR/release/tollgate"
BASE="http://$HOST:$PORT"

die() { echo "bench: error: $*" >&2; exit 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$PORT'"
[[ "$DURATION" =~ ^[0-9]+$ ]] && ((DURATION > 0)) || die "DURATION must be a positive number of seconds, got '$DURATION'"

# --- load generator --------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: wrk not found, installing it with apt-get" >&2
    apt-get update
    apt-get install -y wrk
fi
command -v curl >/dev/null 2>&1 || die "curl is required"

# --- release build ---------------------------------------------------------
echo "bench: building the release binaries (cargo build --release -p tollgate-server -p tollgate-example-resource-server)" >&2
COMMIT_BEFORE="$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
(cd "$REPO_ROOT" && cargo build --release -p tollgate-server -p tollgate-example-resource-server)
RS_BIN="$TARGET_DIR/release/tollgate-example-resource-server"
RS_PORT=$((PORT + 1))
[[ -x "$BIN" ]] || die "no binary at $BIN after the build"
COMMIT="$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
if [[ "$COMMIT" != "$COMMIT_BEFORE" ]]; then
    COMMIT="$COMMIT (was $COMMIT_BEFORE when the build started: the tree changed during the build)"
fi

# --- scratch directory and clean-up -----------------------------------------
WORK="$(mktemp -d -t tollgate-bench.XXXXXX)"
SERVER_PID=""
RS_PID=""
stop() { # pid
    if [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
cleanup() {
    stop "${RS_PID:-}"
    stop "${SERVER_PID:-}"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if curl -s -o /dev/null --max-time 1 "$BASE/" 2>/dev/null; then
    die "something already listens on $HOST:$PORT; pick another PORT"
fi

# --- configuration (environment only; no tollgate.toml in $WORK) -------------
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^TOLLGATE_' || true)
export TOLLGATE_BIND="$HOST:$PORT"
export TOLLGATE_SCOPES='{ read = "Reading scope", write = "Writing scope", introspection = "Introspect" }'
# Without rotation one refresh token serves every request of the run.
export TOLLGATE_ROTATE_REFRESH_TOKEN=false
export TOLLGATE_ACCESS_TOKEN_FORMAT="$ACCESS_TOKEN_FORMAT"
export RUST_LOG=warn
cd "$WORK" # the default database is sqlite://tollgate.db in the current directory

# --- the client --------------------------------------------------------------
"$BIN" createapplication confidential client-credentials --client-id bench >"$WORK/createapplication.out" \
    || die "createapplication failed: $(cat "$WORK/createapplication.out")"
SECRET="$(sed -n 's/^[[:space:]]*client_secret:[[:space:]]*//p' "$WORK/createapplication.out" | head -n1)"
[[ -n "$SECRET" ]] || die "no client_secret line in createapplication output: $(cat "$WORK/createapplication.out")"
BASIC="$(printf '%s' "bench:$SECRET" | base64 -w0)"
# A user and a password-grant client: their refresh token gets an ID token each time.
printf 'bench password\n' | "$BIN" createuser benchuser --password-stdin --email bench@example.com \
    --given-name Bench --family-name User >/dev/null || die "createuser failed"
"$BIN" createapplication confidential password --client-id benchrp >"$WORK/createrp.out" \
    || die "createapplication failed: $(cat "$WORK/createrp.out")"
RP_SECRET="$(sed -n 's/^[[:space:]]*client_secret:[[:space:]]*//p' "$WORK/createrp.out" | head -n1)"
RP_BASIC="$(printf '%s' "benchrp:$RP_SECRET" | base64 -w0)"

# --- the server ----------------------------------------------------------------
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || die "tollgate serve exited during start-up; log:
$(cat "$WORK/server.log")"
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$BASE/health" || true)"
    [[ "$code" == 200 ]] && break
    ((i < 300)) || die "GET /health did not answer 200 within 30 s (last: $code)"
    sleep 0.1
done

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
MEASURED_PID="" # whose CPU a run counts: tollgate serve, then the resource server
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${MEASURED_PID:-$SERVER_PID}/stat"; } # utime + stime
CLK_TCK="$(getconf CLK_TCK)"

# --- one access token to introspect -------------------------------------------
TOKEN_JSON="$(curl -sS --fail-with-body -H "Authorization: Basic $BASIC" \
    -d grant_type=client_credentials "$BASE/o/token/")" || die "token request failed: $TOKEN_JSON"
ACCESS_TOKEN="$(printf '%s' "$TOKEN_JSON" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
[[ -n "$ACCESS_TOKEN" ]] || die "no access_token in: $TOKEN_JSON"
INTROSPECT_JSON="$(curl -sS --fail-with-body -H "Authorization: Basic $BASIC" \
    -d "token=$ACCESS_TOKEN" "$BASE/o/introspect/")" || die "introspection failed: $INTROSPECT_JSON"
[[ "$INTROSPECT_JSON" == *'"active":true'* ]] || die "the token does not introspect as active: $INTROSPECT_JSON"
curl -sS --fail -o /dev/null "$BASE/.well-known/openid-configuration" || die "discovery failed"
USER_JSON="$(curl -sS --fail-with-body -H "Authorization: Basic $RP_BASIC" --data-urlencode 'password=bench password' \
    -d grant_type=password -d username=benchuser -d 'scope=openid profile email' "$BASE/o/token/")" \
    || die "password grant failed: $USER_JSON"
USER_ACCESS="$(printf '%s' "$USER_JSON" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')"
USER_REFRESH="$(printf '%s' "$USER_JSON" | sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p')"
[[ -n "$USER_ACCESS" && -n "$USER_REFRESH" && "$USER_JSON" == *'"id_token"'* ]] || die "no tokens in: $USER_JSON"
curl -sS --fail -o /dev/null -H "Authorization: Bearer $USER_ACCESS" "$BASE/o/userinfo/" || die "userinfo failed"

# --- a browser session: sign in through the form, as a browser does ---------------------
JAR="$WORK/cookies.txt"
LOGIN_PAGE="$(curl -sS --fail -c "$JAR" -b "$JAR" "$BASE/o/login/")" || die "the sign-in page failed"
CSRF="$(printf '%s' "$LOGIN_PAGE" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -n1)"
[[ -n "$CSRF" ]] || die "no CSRF token on the sign-in page"
curl -sS -o /dev/null -c "$JAR" -b "$JAR" -H "Origin: $BASE" --data-urlencode "csrf_token=$CSRF" \
    -d username=benchuser --data-urlencode 'password=bench password' -d next=/o/applications/ \
    "$BASE/o/login/" || die "signing in failed"
SESSION="$(awk '$6 == "tollgate_session" { print $7 }' "$JAR")"
[[ -n "$SESSION" ]] || die "no session cookie after signing in"
curl -sS --fail -o /dev/null -b "tollgate_session=$SESSION" "$BASE/o/applications/" || die "the application list failed"

# --- wrk scripts -----------------------------------------------------------------
cat >"$WORK/token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
EOF
cat >"$WORK/introspect.lua" <<EOF
wrk.method = "POST"
wrk.body = "token=$ACCESS_TOKEN"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
EOF
cat >"$WORK/discovery.lua" <<EOF
wrk.method = "GET"
EOF
cat >"$WORK/refresh.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=refresh_token&refresh_token=$USER_REFRESH"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $RP_BASIC"
EOF
cat >"$WORK/session.lua" <<EOF
wrk.method = "GET"
wrk.headers["Cookie"] = "tollgate_session=$SESSION"
EOF
cat >"$WORK/userinfo.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $USER_ACCESS"
EOF

IDLE_RSS="$(rss_mib)"

# --- machine -----------------------------------------------------------------------
CPU_MODEL="$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo
echo "== machine"
echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "nproc:    $(nproc)"
echo "cpu:      ${CPU_MODEL:-unknown}"
echo "kernel:   $(uname -r)"
echo "rustc:    $(rustc --version)"
echo "commit:   $COMMIT"
echo "wrk:      $(wrk --version 2>&1 | head -n1 || true)"
echo "load:     wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, on the same machine, $BASE"
echo "database: SQLite, $WORK/tollgate.db"

# --- runs ------------------------------------------------------------------------------
ROWS=()
FAILED=""
run() { # name path script [base]
    local name="$1" path="$2" script="$3" base="${4:-$BASE}" out="$WORK/wrk-$1.txt" before after
    echo
    echo "== $name: ${path}"
    before="$(cpu_ticks)"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$script" "$base$path" | tee "$out"
    after="$(cpu_ticks)"
    kill -0 "$SERVER_PID" 2>/dev/null || die "tollgate serve died during the $name run; log:
$(tail -n 50 "$WORK/server.log")"
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        echo "bench: FAILURE: $name: $(grep 'Non-2xx or 3xx responses' "$out" | sed 's/^ *//')" >&2
        FAILED="$FAILED $name"
    fi
    if grep -q 'Socket errors' "$out"; then
        echo "bench: FAILURE: $name: $(grep 'Socket errors' "$out" | sed 's/^ *//')" >&2
        FAILED="$FAILED $name"
    fi
    local rps p50 p99 total cpu_us
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    p50="$(awk '$1 == "50%" { print $2 }' "$out")"
    p99="$(awk '$1 == "99%" { print $2 }' "$out")"
    total="$(awk '/requests in/ { print $1 }' "$out")"
    cpu_us="$(awk -v t="$((after - before))" -v hz="$CLK_TCK" -v n="$total" \
        'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "-" }')"
    ROWS+=("$(printf '| %-50s | %12s | %9s | %9s | %11s |' "$name $path" "$rps" "$p50" "$p99" "$cpu_us")")
}

run token /o/token/ "$WORK/token.lua"
run introspection /o/introspect/ "$WORK/introspect.lua"
run userinfo /o/userinfo/ "$WORK/userinfo.lua"
# Last of the token runs: each refresh replaces the access token the refresh token carries.
run token-id-token /o/token/ "$WORK/refresh.lua"
run discovery /.well-known/openid-configuration "$WORK/discovery.lua"
run jwks /o/.well-known/jwks.json "$WORK/discovery.lua"
# Pages: a template render with a new CSRF cookie each time; then session, user and list lookups.
run sign-in-page /o/login/ "$WORK/discovery.lua"
run application-list /o/applications/ "$WORK/session.lua"

# --- a protected route of another process, validated by introspection ---------------------
# The resource server authenticates to /o/introspect/ as the bench client; after the first
# request the token is served from its cache, so this measures the hot path (no round trip).
ISSUER="$BASE" RESOURCE="http://$HOST:$RS_PORT" BIND="$HOST:$RS_PORT" CLIENT_ID=bench \
    CLIENT_SECRET="$SECRET" "$RS_BIN" >"$WORK/resource-server.log" 2>&1 &
RS_PID=$!
for i in $(seq 100); do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -H "Authorization: Bearer $ACCESS_TOKEN" \
        "http://$HOST:$RS_PORT/api/reports" || true)"
    [[ "$code" == 200 ]] && break
    ((i < 100)) || die "the resource server did not answer 200 (last: $code); log: $(cat "$WORK/resource-server.log")"
    sleep 0.1
done
cat >"$WORK/protected.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $ACCESS_TOKEN"
EOF
MEASURED_PID="$RS_PID"
run protected-route /api/reports "$WORK/protected.lua" "http://$HOST:$RS_PORT"
MEASURED_PID=""

AFTER_RSS="$(rss_mib)"

# The introspected token must still be the one wrk asked about (an inactive answer is a 200).
INTROSPECT_JSON="$(curl -sS -H "Authorization: Basic $BASIC" -d "token=$ACCESS_TOKEN" "$BASE/o/introspect/")"
[[ "$INTROSPECT_JSON" == *'"active":true'* ]] || { echo "bench: FAILURE: token no longer active after the load: $INTROSPECT_JSON" >&2; FAILED="$FAILED introspection-active"; }

if grep -qiE '\b(ERROR|WARN)\b' "$WORK/server.log"; then
    echo
    echo "== server log (warnings and errors, last 20 lines)"
    grep -iE '\b(ERROR|WARN)\b' "$WORK/server.log" | tail -n 20
fi

# --- summary --------------------------------------------------------------------------------
echo
echo "== summary ($(nproc) cores, ${CPU_MODEL:-unknown}, commit $COMMIT, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on the same machine, $ACCESS_TOKEN_FORMAT access tokens)"
printf '| %-50s | %12s | %9s | %9s | %11s |\n' endpoint "requests/s" p50 p99 "CPU us/req"
printf '| %-50s | %12s | %9s | %9s | %11s |\n' --- --- --- --- ---
printf '%s\n' "${ROWS[@]}"
echo
echo "server RSS: idle ${IDLE_RSS} MiB, after load ${AFTER_RSS} MiB"

if [[ -n "$FAILED" ]]; then
    echo
    die "non-2xx responses, socket errors or a wrong answer during:$FAILED (server log above; raw wrk output printed per run)"
fi
