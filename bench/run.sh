#!/usr/bin/env bash
# Load benchmark for Tollgate: token (client_credentials), token with an ID token
# (refresh; RS256, ES256 and EdDSA-signed), introspection, UserInfo, discovery and JWKS, the
# sign-in page and a signed-in user's application list, measured with wrk against a release
# `tollgate serve` on 127.0.0.1, backed by a fresh SQLite file; then a protected route of the
# resource-server example (examples/resource-server), whose tokens are checked by cached remote
# introspection; then token, introspection, UserInfo and the RS256 ID token again against a
# second `tollgate serve` backed by PostgreSQL, with the database's CPU per request.
# The -dpop rows are their Bearer rows with DPoP (RFC 9449): a DPoP-bound token, a fresh proof
# per request (bench/dpop_proofs.py makes them before the row; it needs Python's cryptography).
# See docs/PERFORMANCE.md.
#
# The reference: bench/reference (package tollgate-bench-reference) is a bare axum server built
# with the same release profile, `GET /` answering a small JSON document (as discovery does)
# and `POST /form` parsing a form with axum's `Form` and answering a small JSON document. It is
# measured first, in the same run (rows reference-get and reference-post, its own CPU), and
# every row's requests/s is given as a ratio to it: GET rows to reference-get, POST rows to
# reference-post. That is the ceiling of axum + hyper + tokio + wrk on this machine.
#
#   bench/run.sh                                  # defaults: PORT=18000 DURATION=15 PG=1 SCALE=0
#   CARGO_TARGET_DIR=/tmp/bench-target DURATION=30 PORT=18001 bench/run.sh
#   ACCESS_TOKEN_FORMAT=jwt bench/run.sh          # RFC 9068 JWT access tokens
#   ONLY="token introspection" bench/run.sh       # only these rows (names as in the summary)
#   PERF=/tmp/prof bench/run.sh                   # perf record -g of the measured process, one file per row
#   PG=0 bench/run.sh                             # no PostgreSQL rows
#   PG_URL=postgres://postgres@127.0.0.1:5432/tollgate_bench bench/run.sh
#   SCALE=10000000 bench/run.sh                   # 10M live access + refresh tokens, and cleartokens under load
#   SKIP_BUILD=1 bench/run.sh                     # use the release binaries already in the target directory
#   SQLITE_SYNCHRONOUS=full bench/run.sh          # SQLite syncs every group commit to disk
#   TOLLGATE_METRICS_BIND=127.0.0.1:19464 bench/run.sh  # with the Prometheus recorder installed
#
# Environment:
#   PORT                  tollgate serve (SQLite) on PORT, the resource server on PORT+1, the reference
#                         on PORT+2, tollgate serve (PostgreSQL) on PORT+3; all on 127.0.0.1 (18000)
#   DURATION              seconds of wrk per row (15)
#   ACCESS_TOKEN_FORMAT   opaque or jwt (opaque)
#   ONLY                  space-separated row names to run; the others are skipped (all rows)
#   PERF                  a directory: perf record -g of the measured process, <row>.data per row (off)
#   PG                    1: the PostgreSQL rows (pg-*); 0: none (1)
#   PG_URL                the PostgreSQL database to create, use and drop at the end; it must not exist
#                         yet, and must be on this machine (postgres://postgres@127.0.0.1:5432/tollgate_bench_<pid>)
#   SCALE                 N > 0: before each server starts, N live access tokens and N refresh tokens are
#                         written into its database with one SQL statement per table (timed), and a row
#                         token-during-cleartokens (pg-token-during-cleartokens) adds N expired access
#                         tokens and runs wrk on the token endpoint while `tollgate cleartokens` deletes
#                         them (0: off)
#   SQLITE_SYNCHRONOUS    the server's sqlite_synchronous: normal or full (normal)
#   SKIP_BUILD            1: no cargo build; the binaries in $CARGO_TARGET_DIR/release are used as found (0)
#   CARGO_TARGET_DIR      where the release binaries are built and found (./target)
#
# Rows, in order: reference-get reference-post token token-dpop introspection userinfo userinfo-dpop token-id-token
# token-id-token-es256 token-id-token-eddsa discovery jwks sign-in-page application-list
# token-during-cleartokens protected-route protected-route-dpop pg-token pg-introspection pg-userinfo pg-token-id-token
# pg-token-during-cleartokens.
set -euo pipefail

PORT="${PORT:-18000}"
DURATION="${DURATION:-15}"
ACCESS_TOKEN_FORMAT="${ACCESS_TOKEN_FORMAT:-opaque}"
ONLY="${ONLY:-}"
PERF="${PERF:-}"
PG="${PG:-1}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432/tollgate_bench_$$}"
SCALE="${SCALE:-0}"
SKIP_BUILD="${SKIP_BUILD:-0}"
SQLITE_SYNCHRONOUS="${SQLITE_SYNCHRONOUS:-normal}"
HOST=127.0.0.1 # loopback only, never anything else
THREADS=2
CONNECTIONS=16
# expires_at of the filled live tokens (2100-01-01): far away, and what tells them apart.
FAR_FUTURE=4102444800

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
BIN="$TARGET_DIR/release/tollgate"
RS_BIN="$TARGET_DIR/release/tollgate-example-resource-server"
REF_BIN="$TARGET_DIR/release/tollgate-bench-reference"
BASE="http://$HOST:$PORT"
RS_PORT=$((PORT + 1))
REF_PORT=$((PORT + 2))
PG_PORT=$((PORT + 3))
REF_BASE="http://$HOST:$REF_PORT"
PG_BASE="http://$HOST:$PG_PORT"
ALL_ROWS="reference-get reference-post token token-dpop introspection userinfo userinfo-dpop token-id-token
    token-id-token-es256 token-id-token-eddsa discovery jwks sign-in-page application-list token-during-cleartokens
    protected-route protected-route-dpop
    pg-token pg-introspection pg-userinfo pg-token-id-token pg-token-during-cleartokens"

die() { echo "bench: error: $*" >&2; exit 1; }
selected() { [[ -z "$ONLY" || " $ONLY " == *" $1 "* ]]; } # row name
any_selected() { local row; for row in "$@"; do selected "$row" && return 0; done; return 1; }

[[ "$PORT" =~ ^[0-9]+$ ]] && ((PORT > 0 && PORT + 3 <= 65535)) || die "PORT must be a port number (PORT..PORT+3 are used), got '$PORT'"
[[ "$DURATION" =~ ^[0-9]+$ ]] && ((DURATION > 0)) || die "DURATION must be a positive number of seconds, got '$DURATION'"
[[ "$PG" == 0 || "$PG" == 1 ]] || die "PG must be 0 or 1, got '$PG'"
[[ "$SKIP_BUILD" == 0 || "$SKIP_BUILD" == 1 ]] || die "SKIP_BUILD must be 0 or 1, got '$SKIP_BUILD'"
# At most 10^9: the PostgreSQL fill numbers its rows 1..2N with int4.
[[ "$SCALE" =~ ^[0-9]+$ ]] && ((SCALE <= 1000000000)) || die "SCALE must be a number of tokens (0: off, at most 10^9), got '$SCALE'"
for row in $ONLY; do
    [[ " $(echo $ALL_ROWS) " == *" $row "* ]] || die "ONLY: no row '$row'; rows: $(echo $ALL_ROWS)"
    if [[ "$row" == *during-cleartokens ]] && ((SCALE == 0)); then die "ONLY: $row needs SCALE=N"; fi
    if [[ "$row" == pg-* && "$PG" == 0 ]]; then die "ONLY: $row needs PG=1"; fi
done
PG_ROWS="pg-token pg-introspection pg-userinfo pg-token-id-token"
if ((SCALE > 0)); then PG_ROWS="$PG_ROWS pg-token-during-cleartokens"; fi
PG_USED=0
# shellcheck disable=SC2086 # word splitting wanted
if [[ "$PG" == 1 ]] && any_selected $PG_ROWS; then PG_USED=1; fi
# The SQLite server always runs (the protected route's issuer); its database is filled only
# when a row uses it.
SQLITE_USED=0
for row in $ALL_ROWS; do
    if [[ "$row" != pg-* && "$row" != reference-* ]] && selected "$row"; then SQLITE_USED=1; fi
done

# --- tools -----------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
    echo "bench: wrk not found, installing it with apt-get" >&2
    apt-get update
    apt-get install -y wrk
fi
command -v curl >/dev/null 2>&1 || die "curl is required"
if ((SCALE > 0)); then command -v sqlite3 >/dev/null 2>&1 || die "SCALE needs the sqlite3 command"; fi
if [[ -n "$PERF" ]]; then command -v perf >/dev/null 2>&1 || die "PERF needs the perf command"; fi
if any_selected token-dpop userinfo-dpop protected-route-dpop; then
    python3 -c 'import cryptography' 2>/dev/null \
        || die "the -dpop rows need Python 3 with the cryptography package (pip install cryptography)"
fi

# --- PostgreSQL: on this machine, reachable, and the database not there yet ---------------
PG_DROP=0 # set once this run may have created the database: the clean-up drops it
if ((PG_USED)); then
    command -v psql >/dev/null 2>&1 || die "psql is required for the PostgreSQL rows (PG=0 skips them)"
    [[ "$PG_URL" =~ ^postgres(ql)?://([^@/]+@)?(127\.0\.0\.1|localhost)(:[0-9]+)?/([A-Za-z0-9_]+)$ ]] \
        || die "PG_URL must be postgres://[user@]127.0.0.1[:port]/name (this machine: the database's CPU is read from /proc), got '$PG_URL'"
    PG_DB="${BASH_REMATCH[5]}"
    PG_ADMIN_URL="${PG_URL%/*}/postgres"
    psql -X -q -A -t "$PG_ADMIN_URL" -c 'SELECT 1' >/dev/null 2>&1 \
        || die "PostgreSQL does not answer at $PG_ADMIN_URL (PG=0 skips the PostgreSQL rows)"
    [[ -z "$(psql -X -A -t "$PG_ADMIN_URL" -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]] \
        || die "the database $PG_DB exists already; the bench creates and drops its own: pick another PG_URL"
fi

# --- release build ---------------------------------------------------------
COMMIT_BEFORE="$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
if [[ "$SKIP_BUILD" == 1 ]]; then
    echo "bench: SKIP_BUILD=1: using the release binaries in $TARGET_DIR/release as found" >&2
    COMMIT="$COMMIT_BEFORE (SKIP_BUILD: tollgate built $(date -u -r "$BIN" '+%Y-%m-%d %H:%M UTC' 2>/dev/null || echo '?'), maybe from another tree)"
else
    echo "bench: building the release binaries (cargo build --release -p tollgate-server -p tollgate-example-resource-server -p tollgate-bench-reference)" >&2
    (cd "$REPO_ROOT" && cargo build --release -p tollgate-server -p tollgate-example-resource-server -p tollgate-bench-reference)
    COMMIT="$(git -C "$REPO_ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
    if [[ "$COMMIT" != "$COMMIT_BEFORE" ]]; then
        COMMIT="$COMMIT (was $COMMIT_BEFORE when the build started: the tree changed during the build)"
    fi
fi
for bin in "$BIN" "$RS_BIN" "$REF_BIN"; do [[ -x "$bin" ]] || die "no binary at $bin"; done

# --- scratch directory and clean-up -----------------------------------------
WORK="$(mktemp -d -t tollgate-bench.XXXXXX)"
SERVER_PID=""
RS_PID=""
REF_PID=""
PG_SERVER_PID=""
CLEAR_PID=""
stop() { # pid
    if [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$1" 2>/dev/null || true
        wait "$1" 2>/dev/null || true
    fi
}
cleanup() {
    stop "${CLEAR_PID:-}"
    stop "${REF_PID:-}"
    stop "${RS_PID:-}"
    stop "${SERVER_PID:-}"
    stop "${PG_SERVER_PID:-}"
    if [[ "$PG_DROP" == 1 ]]; then
        # DROP DATABASE waits up to 5 s for the stopped server's backends to go.
        psql -X -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $PG_DB" \
            || echo "bench: warning: could not drop the database $PG_DB; drop it by hand" >&2
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for port in "$PORT" "$RS_PORT" "$REF_PORT" "$PG_PORT"; do
    if curl -s -o /dev/null --max-time 1 "http://$HOST:$port/" 2>/dev/null; then
        die "something already listens on $HOST:$port; pick another PORT (PORT..PORT+3 are used)"
    fi
done

# --- helpers ---------------------------------------------------------------------
now_s() { date +%s.%N; }
seconds_since() { awk -v a="$1" -v b="$(now_s)" 'BEGIN { printf "%.1f", b - a }'; } # start
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print "-" }'; } # count seconds
thousands() { printf '%s' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
NOTES=() # lines printed under the summary table

# Registers, in the database the environment names, the client-credentials client `bench`, a
# user, and a password-grant client per ID token algorithm; sets SECRET, BASIC and RP_BASIC[alg].
declare -A RP_CLIENT=([RS256]=benchrp [ES256]=benchrp-es256 [EdDSA]=benchrp-eddsa)
declare -A RP_BASIC=()
create_client() { # var client-id createapplication-arguments...: sets var to the Basic credentials
    local var="$1" id="$2" out="$WORK/createapplication-$2.out" secret
    shift 2
    "$BIN" createapplication confidential "$@" --client-id "$id" >"$out" \
        || die "createapplication $id failed: $(cat "$out")"
    secret="$(sed -n 's/^[[:space:]]*client_secret:[[:space:]]*//p' "$out" | head -n1)"
    [[ -n "$secret" ]] || die "no client_secret line in createapplication output: $(cat "$out")"
    if [[ "$id" == bench ]]; then SECRET="$secret"; fi
    printf -v "$var" '%s' "$(printf '%s' "$id:$secret" | base64 -w0)"
}
register_clients() {
    local alg basic
    "$BIN" migrate >/dev/null || die "tollgate migrate failed"
    create_client BASIC bench client-credentials
    # A user and password-grant clients: their refresh tokens get an ID token each time.
    printf 'bench password\n' | "$BIN" createuser benchuser --password-stdin --email bench@example.com \
        --given-name Bench --family-name User >/dev/null || die "createuser failed"
    for alg in RS256 ES256 EdDSA; do
        create_client basic "${RP_CLIENT[$alg]}" password --algorithm "$alg"
        RP_BASIC[$alg]="$basic"
    done
}

start_server() { # var port log: starts `tollgate serve` (TOLLGATE_* from the environment), sets var to its pid
    local var="$1" port="$2" log="$3" pid code i
    TOLLGATE_BIND="$HOST:$port" "$BIN" serve >"$log" 2>&1 &
    pid=$!
    printf -v "$var" '%s' "$pid"
    for i in $(seq 300); do
        kill -0 "$pid" 2>/dev/null || die "tollgate serve exited during start-up; log:
$(cat "$log")"
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://$HOST:$port/health" || true)"
        [[ "$code" == 200 ]] && break
        ((i < 300)) || die "GET /health on port $port did not answer 200 within 30 s (last: $code)"
        sleep 0.1
    done
}

jwt_alg() { # jwt: the alg of its header
    local h="${1%%.*}"
    h="$(printf '%s' "$h" | tr '_-' '/+')"
    while ((${#h} % 4)); do h="$h="; done
    printf '%s' "$h" | base64 -d 2>/dev/null | sed -n 's/.*"alg":"\([^"]*\)".*/\1/p'
}
json_field() { printf '%s' "$1" | sed -n "s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p"; } # json field

# Fetches, from the server at base, a client-credentials access token (checked by
# introspection) and a password grant per ID token algorithm (its ID token's alg checked, its
# access token by UserInfo), and writes the wrk scripts $WORK/<tag>-*.lua.
prepare() { # base tag
    local base="$1" tag="$2" json access alg user_json user_access user_refresh id_token got
    json="$(curl -sS --fail-with-body -H "Authorization: Basic $BASIC" \
        -d grant_type=client_credentials "$base/o/token/")" || die "token request failed: $json"
    access="$(json_field "$json" access_token)"
    [[ -n "$access" ]] || die "no access_token in: $json"
    printf '%s' "$access" >"$WORK/$tag-access-token"
    json="$(curl -sS --fail-with-body -H "Authorization: Basic $BASIC" \
        -d "token=$access" "$base/o/introspect/")" || die "introspection failed: $json"
    [[ "$json" == *'"active":true'* ]] || die "the token does not introspect as active: $json"
    curl -sS --fail -o /dev/null "$base/.well-known/openid-configuration" || die "discovery failed"
    cat >"$WORK/$tag-token.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
EOF
    cat >"$WORK/$tag-introspect.lua" <<EOF
wrk.method = "POST"
wrk.body = "token=$access"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic $BASIC"
EOF
    for alg in RS256 ES256 EdDSA; do
        user_json="$(curl -sS --fail-with-body -H "Authorization: Basic ${RP_BASIC[$alg]}" \
            --data-urlencode 'password=bench password' -d grant_type=password -d username=benchuser \
            -d 'scope=openid profile email' "$base/o/token/")" || die "password grant ($alg) failed: $user_json"
        user_access="$(json_field "$user_json" access_token)"
        user_refresh="$(json_field "$user_json" refresh_token)"
        id_token="$(json_field "$user_json" id_token)"
        [[ -n "$user_access" && -n "$user_refresh" && -n "$id_token" ]] || die "no tokens in: $user_json"
        got="$(jwt_alg "$id_token")"
        [[ "$got" == "$alg" ]] || die "${RP_CLIENT[$alg]}'s ID token is signed with '$got', not $alg"
        curl -sS --fail -o /dev/null -H "Authorization: Bearer $user_access" "$base/o/userinfo/" \
            || die "userinfo ($alg) failed"
        cat >"$WORK/$tag-refresh-$alg.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=refresh_token&refresh_token=$user_refresh"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic ${RP_BASIC[$alg]}"
EOF
        if [[ "$alg" == RS256 ]]; then
            cat >"$WORK/$tag-userinfo.lua" <<EOF
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer $user_access"
EOF
        fi
    done
}

# DPoP: proofs for `method url` (with the access token's ath when given) into $WORK/<name>.proofs,
# enough for the row, and a wrk script sending one per request, each thread its own share, with
# the Authorization header given. Proofs are made right before the row: they are good for 300 s.
DPOP_KEY="$WORK/dpop-key.pem"
dpop_proof() { # method url [access token]: one proof, for the request that binds a token
    python3 "$REPO_ROOT/bench/dpop_proofs.py" "$DPOP_KEY" "$1" "$2" 1 ${3:+"$3"}
}
dpop_script() { # name rate method url authorization [access token] [form body]
    # rate: more requests/s than the row can serve, so the proofs last the whole run (a row that
    # runs out sends requests without one, and its 4xx fail the bench rather than skew the row).
    local name="$1" rate="$2" method="$3" url="$4" authorization="$5" token="${6:-}" body="${7:-}"
    local count=$((DURATION * rate))
    python3 "$REPO_ROOT/bench/dpop_proofs.py" "$DPOP_KEY" "$method" "$url" "$count" ${token:+"$token"} \
        >"$WORK/$name.proofs" || die "making DPoP proofs for $name failed"
    cat >"$WORK/$name.lua" <<EOF
wrk.method = "$method"
local threads, proofs, n = 0, {}, 0
local body = "$body"
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args)
    local i = 0
    for line in io.lines("$WORK/$name.proofs") do
        if i % $THREADS == id then proofs[#proofs + 1] = line end
        i = i + 1
    end
end
function request()
    n = n + 1
    -- Out of proofs: no DPoP header, so the 4xx shows in the summary rather than a replay passing.
    local headers = { ["Authorization"] = "$authorization", ["DPoP"] = proofs[n] }
    if body ~= "" then
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return wrk.format(nil, nil, headers, body)
    end
    return wrk.format(nil, nil, headers)
end
EOF
}

# Is the access token of prepare still active (an inactive answer is a 200, so wrk cannot tell)?
check_active() { # base tag
    local json
    json="$(curl -sS -H "Authorization: Basic $BASIC" -d "token=$(cat "$WORK/$2-access-token")" "$1/o/introspect/")"
    if [[ "$json" != *'"active":true'* ]]; then
        echo "bench: FAILURE: $2: the token is no longer active after the load: $json" >&2
        FAILED="$FAILED $2-introspection-active"
    fi
}

# --- SCALE: live tokens written straight into the database, one statement per table -------
# The bench client's tokens (client credentials: no user), scope read, expiring in 2100; each
# refresh token carries one of the access tokens. The SQLite hashes are randomblob(32), the
# PostgreSQL ones SHA-256 of the row number (access) and of the access token's id (refresh).
sqlite_exec() { # sql: in $WORK/tollgate.db, prints what it selects
    sqlite3 -bail "$WORK/tollgate.db" ".timeout 30000" "$1"
}
filled() { # db what count start: checks the count and notes the time taken
    local db="$1" what="$2" count="$3" seconds
    seconds="$(seconds_since "$4")"
    [[ "$count" == "$SCALE" ]] || die "$db: filling $what wrote '$count' rows, not $SCALE"
    NOTES+=("$db: filled $(thousands "$count") $what in $seconds s ($(thousands "$(per_second "$count" "$seconds")") rows/s)")
    echo "bench: ${NOTES[-1]}" >&2
}
fill_live() { # sqlite|postgresql
    local start count now_sql
    if [[ "$1" == sqlite ]]; then
        now_sql="CAST(strftime('%s', 'now') AS INTEGER)"
        start="$(now_s)"
        count="$(sqlite_exec "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SCALE)
            INSERT INTO tollgate_access_tokens (token_hash, application_id, scope, expires_at, created_at)
            SELECT randomblob(32), (SELECT id FROM tollgate_applications WHERE client_id = 'bench'), 'read',
                $FAR_FUTURE, $now_sql FROM n;
            SELECT changes();")"
        filled SQLite "live access tokens" "$count" "$start"
        start="$(now_s)"
        count="$(sqlite_exec "INSERT INTO tollgate_refresh_tokens (token_hash, application_id, access_token_id,
                family, scope, expires_at, created_at)
            SELECT randomblob(32), application_id, id, lower(hex(randomblob(16))), scope, expires_at, created_at
            FROM tollgate_access_tokens WHERE expires_at = $FAR_FUTURE;
            SELECT changes();")"
        filled SQLite "live refresh tokens" "$count" "$start"
    else
        now_sql="extract(epoch FROM now())::bigint"
        start="$(now_s)"
        count="$(pg_insert "INSERT INTO tollgate_access_tokens (token_hash, application_id, scope, expires_at, created_at)
            SELECT sha256(int4send(i)), (SELECT id FROM tollgate_applications WHERE client_id = 'bench'), 'read',
                $FAR_FUTURE, $now_sql FROM generate_series(1, $SCALE) AS i")"
        filled PostgreSQL "live access tokens" "$count" "$start"
        start="$(now_s)"
        count="$(pg_insert "INSERT INTO tollgate_refresh_tokens (token_hash, application_id, access_token_id,
                family, scope, expires_at, created_at)
            SELECT sha256(int8send(id)), application_id, id, md5(id::text), scope, expires_at, created_at
            FROM tollgate_access_tokens WHERE expires_at = $FAR_FUTURE")"
        filled PostgreSQL "live refresh tokens" "$count" "$start"
        # As autovacuum would soon after such an insert: the planner's statistics.
        psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c 'ANALYZE tollgate_access_tokens, tollgate_refresh_tokens' \
            || die "ANALYZE failed"
    fi
}
# N access tokens that expired an hour ago, for cleartokens to delete (the server is up, idle).
fill_expired() { # sqlite|postgresql
    local start count
    if [[ "$1" == sqlite ]]; then
        start="$(now_s)"
        count="$(sqlite_exec "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SCALE)
            INSERT INTO tollgate_access_tokens (token_hash, application_id, scope, expires_at, created_at)
            SELECT randomblob(32), (SELECT id FROM tollgate_applications WHERE client_id = 'bench'), 'read',
                CAST(strftime('%s', 'now') AS INTEGER) - 3600, CAST(strftime('%s', 'now') AS INTEGER) - 7200 FROM n;
            SELECT changes();")"
        filled SQLite "expired access tokens" "$count" "$start"
    else
        start="$(now_s)"
        count="$(pg_insert "INSERT INTO tollgate_access_tokens (token_hash, application_id, scope, expires_at, created_at)
            SELECT sha256(int4send($SCALE + i)), (SELECT id FROM tollgate_applications WHERE client_id = 'bench'),
                'read', extract(epoch FROM now())::bigint - 3600, extract(epoch FROM now())::bigint - 7200
            FROM generate_series(1, $SCALE) AS i")"
        filled PostgreSQL "expired access tokens" "$count" "$start"
        psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" -c 'ANALYZE tollgate_access_tokens' || die "ANALYZE failed"
    fi
}
pg_insert() { # sql: runs it in $PG_URL, prints the number of rows inserted
    local tag
    tag="$(psql -X -v ON_ERROR_STOP=1 "$PG_URL" -c "$1")" || die "psql failed: $1"
    printf '%s' "$tag" | sed -n 's/^INSERT 0 \([0-9]*\)$/\1/p'
}

# --- configuration (environment only; no tollgate.toml in $WORK) -------------
while IFS= read -r var; do unset "$var"; done < <(compgen -e | grep '^TOLLGATE_' || true)
export TOLLGATE_SCOPES='{ read = "Reading scope", write = "Writing scope", introspection = "Introspect" }'
# Without rotation one refresh token serves every request of the run.
export TOLLGATE_ROTATE_REFRESH_TOKEN=false
export TOLLGATE_ACCESS_TOKEN_FORMAT="$ACCESS_TOKEN_FORMAT"
export TOLLGATE_SQLITE_SYNCHRONOUS="$SQLITE_SYNCHRONOUS"
export RUST_LOG=warn
cd "$WORK" # the default database is sqlite://tollgate.db in the current directory

# --- SQLite: the clients, the filled tokens, the server --------------------------
register_clients
if ((SCALE > 0 && SQLITE_USED)); then fill_live sqlite; fi
start_server SERVER_PID "$PORT" "$WORK/server.log"
prepare "$BASE" sqlite
ACCESS_TOKEN="$(cat "$WORK/sqlite-access-token")"

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
cat >"$WORK/discovery.lua" <<EOF
wrk.method = "GET"
EOF
cat >"$WORK/session.lua" <<EOF
wrk.method = "GET"
wrk.headers["Cookie"] = "tollgate_session=$SESSION"
EOF
cat >"$WORK/reference-post.lua" <<EOF
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
EOF

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; } # pid
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # pid: utime + stime
# utime + stime of every process named postgres: the postmaster, its helpers and all its
# backends, listed afresh at each call since backends come and go. Limitations: a backend that
# exits during a row is missed (its ticks were in the first sum and are not in the second; the
# server keeps its pool's connections open, so this should not happen, except cleartokens'
# connection in the *-during-cleartokens row), and any other PostgreSQL cluster or client work on
# this machine is counted too.
pg_ticks() {
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '$2 == "(postgres)" { t += $14 + $15 } END { print t + 0 }'
}
CLK_TCK="$(getconf CLK_TCK)"
# The process whose CPU a row counts (and that PERF records), its log, and whether the row also
# counts the database's CPU (DB_CPU=1: the PostgreSQL rows).
MEASURED_PID="$SERVER_PID"
MEASURED_LOG="$WORK/server.log"
DB_CPU=0

IDLE_RSS="$(rss_mib "$SERVER_PID")"

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
echo "database: SQLite, $WORK/tollgate.db, sqlite_synchronous=$SQLITE_SYNCHRONOUS"
if ((PG_USED)); then
    echo "database: $(psql -X -A -t "$PG_ADMIN_URL" -c 'SELECT version()' | cut -d' ' -f1-2), $PG_URL, for $PG_BASE"
fi
echo "reference: bare axum (bench/reference), $REF_BASE"
if ((SCALE > 0)); then echo "scale:    $(thousands "$SCALE") live access tokens and refresh tokens in each database the rows use"; fi

# --- runs ------------------------------------------------------------------------------
ROW_NAME=() ROW_LABEL=() ROW_METHOD=() ROW_RPS=() ROW_P50=() ROW_P99=() ROW_CPU=() ROW_DB_CPU=()
REF_GET_RPS=""
REF_POST_RPS=""
FAILED=""
run() { # name path script [base] [note for the summary]
    local name="$1" path="$2" script="$3" base="${4:-$BASE}" note="${5:-}" out="$WORK/wrk-$1.txt"
    local before after db_before="" db_after="" perf_pid="" method
    selected "$name" || return 0
    method="$(sed -n 's/^wrk\.method = "\([A-Z]*\)"$/\1/p' "$script")"
    echo
    echo "== $name: $method ${path}${note:+ ($note)}"
    if [[ -n "$PERF" ]]; then
        mkdir -p "$PERF"
        perf record -F 999 --call-graph "${PERF_CALL_GRAPH:-dwarf,16384}" -p "$MEASURED_PID" -o "$PERF/$name.data" >/dev/null 2>&1 &
        perf_pid=$!
    fi
    if [[ "$DB_CPU" == 1 ]]; then db_before="$(pg_ticks)"; fi
    before="$(cpu_ticks "$MEASURED_PID")"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$script" "$base$path" | tee "$out"
    kill -0 "$MEASURED_PID" 2>/dev/null || die "the measured process died during the $name run; log:
$(tail -n 50 "$MEASURED_LOG")"
    after="$(cpu_ticks "$MEASURED_PID")"
    if [[ "$DB_CPU" == 1 ]]; then db_after="$(pg_ticks)"; fi
    if [[ -n "$perf_pid" ]]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
    if grep -q 'Non-2xx or 3xx responses' "$out"; then
        echo "bench: FAILURE: $name: $(grep 'Non-2xx or 3xx responses' "$out" | sed 's/^ *//')" >&2
        FAILED="$FAILED $name"
    fi
    if grep -q 'Socket errors' "$out"; then
        echo "bench: FAILURE: $name: $(grep 'Socket errors' "$out" | sed 's/^ *//')" >&2
        FAILED="$FAILED $name"
    fi
    local rps p50 p99 total cpu_us db_us="-"
    rps="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    p50="$(awk '$1 == "50%" { print $2 }' "$out")"
    p99="$(awk '$1 == "99%" { print $2 }' "$out")"
    total="$(awk '/requests in/ { print $1 }' "$out")"
    cpu_us="$(awk -v t="$((after - before))" -v hz="$CLK_TCK" -v n="$total" \
        'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "-" }')"
    if [[ "$DB_CPU" == 1 ]]; then
        db_us="$(awk -v t="$((db_after - db_before))" -v hz="$CLK_TCK" -v n="$total" \
            'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "-" }')"
    fi
    case "$name" in
        reference-get) REF_GET_RPS="$rps" ;;
        reference-post) REF_POST_RPS="$rps" ;;
    esac
    ROW_NAME+=("$name")
    ROW_LABEL+=("$name $path${note:+ ($note)}")
    ROW_METHOD+=("$method")
    ROW_RPS+=("${rps:--}")
    ROW_P50+=("${p50:--}")
    ROW_P99+=("${p99:--}")
    ROW_CPU+=("$cpu_us")
    ROW_DB_CPU+=("$db_us")
}

# wrk on the token endpoint while `tollgate cleartokens` deletes N expired access tokens from the
# same database (the tokens are added first, with the server idle). cleartokens starts just
# before wrk, in a subshell that notes when it ends: if that is before wrk's end, the rest of
# the row ran without it (the note says so).
run_during_cleartokens() { # name base db(sqlite|postgresql) tag
    local name="$1" base="$2" db="$3" tag="$4" out="$WORK/cleartokens-$1.out" end="$WORK/cleartokens-$1.end"
    local start seconds rc removed overlap
    selected "$name" || return 0
    fill_expired "$db"
    start="$(now_s)"
    (
        "$BIN" cleartokens >"$out" 2>&1 &
        child=$!
        trap 'kill -TERM "$child" 2>/dev/null; exit 143' TERM
        if wait "$child"; then status=0; else status=$?; fi
        now_s >"$end"
        exit "$status"
    ) &
    CLEAR_PID=$!
    run "$name" /o/token/ "$WORK/$tag-token.lua" "$base" "$(thousands "$SCALE") expired rows being cleared"
    if [[ -s "$end" ]]; then
        overlap="the first $(awk -v a="$start" -v b="$(cat "$end")" 'BEGIN { printf "%.1f", b - a }') s of the ${DURATION} s wrk run"
    else
        overlap="the whole ${DURATION} s wrk run"
    fi
    if wait "$CLEAR_PID"; then rc=0; else rc=$?; fi
    CLEAR_PID=""
    seconds="$(awk -v a="$start" -v b="$(cat "$end" 2>/dev/null || now_s)" 'BEGIN { printf "%.1f", b - a }')"
    echo
    echo "== $name: tollgate cleartokens (exit status $rc, $seconds s, overlapping $overlap)"
    cat "$out"
    if ((rc != 0)); then
        echo "bench: FAILURE: $name: tollgate cleartokens exited with $rc" >&2
        FAILED="$FAILED $name-cleartokens"
    fi
    removed="$(sed -n 's/^Removed \([0-9]*\) rows.*/\1/p' "$out")"
    NOTES+=("$name: tollgate cleartokens removed $(thousands "${removed:-?}") rows in $seconds s ($(thousands "$(per_second "${removed:-0}" "$seconds")") rows/s), overlapping $overlap (exit status $rc)")
    NOTES+=("    $(grep '^Removed' "$out" || tail -n1 "$out")")
}

# The reference first: a bare axum server, same profile, nothing behind it.
if any_selected reference-get reference-post; then
    "$REF_BIN" "$HOST:$REF_PORT" >"$WORK/reference.log" 2>&1 &
    REF_PID=$!
    for i in $(seq 100); do
        kill -0 "$REF_PID" 2>/dev/null || die "the reference server exited; log: $(cat "$WORK/reference.log")"
        code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$REF_BASE/" || true)"
        [[ "$code" == 200 ]] && break
        ((i < 100)) || die "the reference server did not answer 200 (last: $code); log: $(cat "$WORK/reference.log")"
        sleep 0.1
    done
    [[ "$(curl -sS --fail -d grant_type=client_credentials "$REF_BASE/form")" == *client_credentials* ]] \
        || die "the reference server's POST /form failed"
    MEASURED_PID="$REF_PID" MEASURED_LOG="$WORK/reference.log"
    run reference-get / "$WORK/discovery.lua" "$REF_BASE"
    run reference-post /form "$WORK/reference-post.lua" "$REF_BASE"
    stop "$REF_PID"
    REF_PID=""
    MEASURED_PID="$SERVER_PID" MEASURED_LOG="$WORK/server.log"
fi

SCALE_NOTE=""
if ((SCALE > 0)); then SCALE_NOTE="$(thousands "$SCALE") filled tokens"; fi
run token /o/token/ "$WORK/sqlite-token.lua" "$BASE" "$SCALE_NOTE"
run introspection /o/introspect/ "$WORK/sqlite-introspect.lua" "$BASE" "$SCALE_NOTE"
run userinfo /o/userinfo/ "$WORK/sqlite-userinfo.lua"
# The same with DPoP: a token bound to the bench key, and a proof per request.
dpop_token() { # basic form...: a DPoP-bound access token from the SQLite server's token endpoint
    local basic="$1" json
    shift
    json="$(curl -sS --fail-with-body -H "Authorization: Basic $basic" \
        -H "DPoP: $(dpop_proof POST "$BASE/o/token/")" "$@" "$BASE/o/token/")" || die "DPoP token request failed: $json"
    [[ "$json" == *'"token_type":"DPoP"'* ]] || die "the token is not DPoP-bound: $json"
    json_field "$json" access_token
}
if any_selected token-dpop userinfo-dpop protected-route-dpop; then
    DPOP_USER_TOKEN="$(dpop_token "${RP_BASIC[RS256]}" --data-urlencode 'password=bench password' \
        -d grant_type=password -d username=benchuser -d 'scope=openid profile email')"
    DPOP_ACCESS_TOKEN="$(dpop_token "$BASIC" -d grant_type=client_credentials)"
fi
if selected token-dpop; then
    dpop_script token-dpop 15000 POST "$BASE/o/token/" "Basic $BASIC" "" "grant_type=client_credentials"
    run token-dpop /o/token/ "$WORK/token-dpop.lua" "$BASE" "a DPoP proof each"
fi
if selected userinfo-dpop; then
    dpop_script userinfo-dpop 15000 GET "$BASE/o/userinfo/" "DPoP $DPOP_USER_TOKEN" "$DPOP_USER_TOKEN"
    run userinfo-dpop /o/userinfo/ "$WORK/userinfo-dpop.lua" "$BASE" "a DPoP proof each"
fi
# Last of the token runs: each refresh replaces the access token the refresh token carries
# (the userinfo run's is RS256's). One client, grant and refresh token per algorithm.
run token-id-token /o/token/ "$WORK/sqlite-refresh-RS256.lua" "$BASE" RS256
run token-id-token-es256 /o/token/ "$WORK/sqlite-refresh-ES256.lua" "$BASE" ES256
run token-id-token-eddsa /o/token/ "$WORK/sqlite-refresh-EdDSA.lua" "$BASE" EdDSA
run discovery /.well-known/openid-configuration "$WORK/discovery.lua"
run jwks /o/.well-known/jwks.json "$WORK/discovery.lua"
# Pages: a template render with a new CSRF cookie each time; then session, user and list lookups.
run sign-in-page /o/login/ "$WORK/discovery.lua"
run application-list /o/applications/ "$WORK/session.lua"
if ((SCALE > 0)); then run_during_cleartokens token-during-cleartokens "$BASE" sqlite sqlite; fi

# --- a protected route of another process, validated by introspection ---------------------
# The resource server authenticates to /o/introspect/ as the bench client; after the first
# request the token is served from its cache, so this measures the hot path (no round trip).
if any_selected protected-route protected-route-dpop; then
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
    MEASURED_PID="$RS_PID" MEASURED_LOG="$WORK/resource-server.log"
    run protected-route /api/reports "$WORK/protected.lua" "http://$HOST:$RS_PORT"
    if selected protected-route-dpop; then
        # Bound to the bench key; each proof names the API's URL and the token (RFC 9449 §7).
        dpop_script protected-route-dpop 50000 GET "http://$HOST:$RS_PORT/api/reports" \
            "DPoP $DPOP_ACCESS_TOKEN" "$DPOP_ACCESS_TOKEN"
        run protected-route-dpop /api/reports "$WORK/protected-route-dpop.lua" "http://$HOST:$RS_PORT" "a DPoP proof each"
    fi
    MEASURED_PID="$SERVER_PID" MEASURED_LOG="$WORK/server.log"
fi

AFTER_RSS="$(rss_mib "$SERVER_PID")"
check_active "$BASE" sqlite

# --- PostgreSQL: a second server on PORT+3, the SQLite one left running idle ----------------
if ((PG_USED)); then
    echo
    echo "== PostgreSQL: $PG_URL, tollgate serve on $PG_BASE"
    export TOLLGATE_DATABASE_URL="$PG_URL"
    PG_DROP=1 # tollgate creates the database on first use
    register_clients
    if ((SCALE > 0)); then fill_live postgresql; fi
    start_server PG_SERVER_PID "$PG_PORT" "$WORK/pg-server.log"
    prepare "$PG_BASE" pg
    PG_IDLE_RSS="$(rss_mib "$PG_SERVER_PID")"
    MEASURED_PID="$PG_SERVER_PID" MEASURED_LOG="$WORK/pg-server.log" DB_CPU=1
    run pg-token /o/token/ "$WORK/pg-token.lua" "$PG_BASE" "$SCALE_NOTE"
    run pg-introspection /o/introspect/ "$WORK/pg-introspect.lua" "$PG_BASE" "$SCALE_NOTE"
    run pg-userinfo /o/userinfo/ "$WORK/pg-userinfo.lua" "$PG_BASE"
    run pg-token-id-token /o/token/ "$WORK/pg-refresh-RS256.lua" "$PG_BASE" RS256
    if ((SCALE > 0)); then run_during_cleartokens pg-token-during-cleartokens "$PG_BASE" postgresql pg; fi
    MEASURED_PID="$SERVER_PID" MEASURED_LOG="$WORK/server.log" DB_CPU=0
    PG_AFTER_RSS="$(rss_mib "$PG_SERVER_PID")"
    check_active "$PG_BASE" pg
fi

for log in server.log pg-server.log; do
    if [[ -f "$WORK/$log" ]] && grep -qiE '\b(ERROR|WARN)\b' "$WORK/$log"; then
        echo
        echo "== $log (warnings and errors, last 20 lines)"
        grep -iE '\b(ERROR|WARN)\b' "$WORK/$log" | tail -n 20
    fi
done

# --- summary --------------------------------------------------------------------------------
# requests/s ÷ the reference's: GET rows to reference-get, POST rows to reference-post.
ratio() { # rps method
    local ref="$REF_GET_RPS"
    if [[ "$2" == POST ]]; then ref="$REF_POST_RPS"; fi
    awk -v r="$1" -v b="$ref" 'BEGIN { if (b + 0 > 0 && r + 0 > 0) printf "%.2f", r / b; else print "-" }'
}
width=8
for label in "${ROW_LABEL[@]}"; do if ((${#label} > width)); then width=${#label}; fi; done
line() { printf "| %-${width}s | %12s | %9s | %9s | %11s | %14s | %18s |\n" "$@"; }
echo
echo "== summary ($(nproc) cores, ${CPU_MODEL:-unknown}, commit $COMMIT, wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on the same machine, $ACCESS_TOKEN_FORMAT access tokens)"
line endpoint "requests/s" p50 p99 "CPU us/req" "db CPU us/req" "ratio to bare axum"
line --- --- --- --- --- --- ---
for i in "${!ROW_NAME[@]}"; do
    line "${ROW_LABEL[$i]}" "${ROW_RPS[$i]}" "${ROW_P50[$i]}" "${ROW_P99[$i]}" "${ROW_CPU[$i]}" \
        "${ROW_DB_CPU[$i]}" "$(ratio "${ROW_RPS[$i]}" "${ROW_METHOD[$i]}")"
done
echo
echo "CPU us/req: the measured process's (tollgate serve; the reference's for reference-*, the resource server's for protected-route)."
if ((PG_USED)); then
    echo "db CPU us/req: every process named postgres on this machine (pg-* rows), backends that exit during a row missed."
fi
echo "server RSS: idle ${IDLE_RSS} MiB, after load ${AFTER_RSS} MiB"
if ((PG_USED)); then echo "PostgreSQL server RSS: idle ${PG_IDLE_RSS} MiB, after load ${PG_AFTER_RSS} MiB"; fi
if ((${#NOTES[@]})); then printf '%s\n' "${NOTES[@]}"; fi

if [[ -n "$FAILED" ]]; then
    echo
    die "non-2xx responses, socket errors or a wrong answer during:$FAILED (server log above; raw wrk output printed per run)"
fi
