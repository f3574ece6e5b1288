#!/usr/bin/env bash
# How long `tollgate import-dot` takes on a large django-oauth-toolkit database:
# the fixture DOT 3.4.1 made (crates/server/tests/fixtures/dot/dot.sqlite3),
# grown with SQL to USERS users, each with a live access token, a live refresh
# token and an expired access token, imported by a release build into a fresh
# SQLite file, then into PostgreSQL when PG_URL is set. See docs/PERFORMANCE.md.
#
#   bench/import_dot.sh                               # USERS=100000
#   USERS=20000 PG_URL=postgres://postgres@127.0.0.1:5432/bench_import bench/import_dot.sh
set -euo pipefail

USERS="${USERS:-100000}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
BIN="$TARGET_DIR/release/tollgate"
FIXTURES="$REPO_ROOT/crates/server/tests/fixtures/dot"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

die() { echo "bench: error: $*" >&2; exit 1; }
[[ "$USERS" =~ ^[0-9]+$ ]] && ((USERS > 0)) || die "USERS must be a positive number, got '$USERS'"
command -v sqlite3 >/dev/null 2>&1 || die "sqlite3 is required (apt-get install sqlite3)"

echo "bench: building the release binary (cargo build --release -p tollgate-server)" >&2
(cd "$REPO_ROOT" && cargo build --release -p tollgate-server)

# The fixture, grown: users copy alice's row (her pbkdf2 hash) under new ids and
# names; their tokens are on the Web app, checksums made unique from the id.
cp "$FIXTURES/dot.sqlite3" "$WORK/dot.sqlite3"
sqlite3 "$WORK/dot.sqlite3" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $USERS)
INSERT INTO auth_user (id, password, last_login, is_superuser, username, last_name, email,
                       is_staff, is_active, date_joined, first_name)
SELECT 1000 + i, password, last_login, 0, 'user' || i, last_name, 'user' || i || '@example.com',
       0, 1, date_joined, first_name FROM n, auth_user WHERE auth_user.username = 'alice';
INSERT INTO oauth2_provider_accesstoken (token, expires, scope, application_id, user_id, created,
                                         updated, token_checksum, resource)
SELECT 'live' || id, '2096-01-01 00:00:00', 'read write', 1, id, '2026-01-01 00:00:00',
       '2026-01-01 00:00:00', printf('%064x', id), '[]' FROM auth_user WHERE id > 1000;
INSERT INTO oauth2_provider_accesstoken (token, expires, scope, application_id, user_id, created,
                                         updated, token_checksum, resource)
SELECT 'old' || id, '2020-01-01 00:00:00', 'read', 1, id, '2019-01-01 00:00:00',
       '2019-01-01 00:00:00', printf('%064x', id + 1000000000), '[]' FROM auth_user WHERE id > 1000;
INSERT INTO oauth2_provider_refreshtoken (token, access_token_id, application_id, user_id, created,
                                          updated, revoked, token_family, token_checksum, resource)
SELECT 'refresh' || user_id, id, 1, user_id, created, updated, NULL,
       printf('%032x', user_id), printf('%064x', user_id + 2000000000), '[]'
FROM oauth2_provider_accesstoken WHERE token LIKE 'live%';
SQL
rows=$(sqlite3 "$WORK/dot.sqlite3" "SELECT (SELECT COUNT(*) FROM auth_user) + (SELECT COUNT(*) FROM oauth2_provider_accesstoken) + (SELECT COUNT(*) FROM oauth2_provider_refreshtoken)")
echo "bench: the DOT database holds $rows users and tokens" >&2

import() {
    local target="$1"
    local started ended
    started=$(date +%s%N)
    TOLLGATE_DATABASE_URL="$target" TOLLGATE_ISSUER=http://127.0.0.1:8000/o \
        "$BIN" import-dot "$WORK/dot.sqlite3" --oidc-rsa-private-key "$FIXTURES/oidc_rsa_private_key.pem" \
        >"$WORK/summary.txt"
    ended=$(date +%s%N)
    grep -E "^  (users|access tokens|refresh tokens) " "$WORK/summary.txt" >&2
    echo "bench: import-dot into ${target%%:*}: $(( (ended - started) / 1000000 )) ms for $rows rows read"
    started=$(date +%s%N)
    TOLLGATE_DATABASE_URL="$target" TOLLGATE_ISSUER=http://127.0.0.1:8000/o \
        "$BIN" import-dot "$WORK/dot.sqlite3" >/dev/null
    ended=$(date +%s%N)
    echo "bench: again, finding everything already there: $(( (ended - started) / 1000000 )) ms"
}

import "sqlite://$WORK/tollgate.db"
if [[ -n "${PG_URL:-}" ]]; then
    import "$PG_URL"
fi
