#!/usr/bin/env bash
# Restore drill: prove that a base backup plus archived WAL restores to a point in time, exactly.
#
#   scripts/restore-drill.sh            # prints one JSON line; exit 0 only when the drill passed
#
# On a throwaway local cluster (initdb in a temp folder, Unix socket only, nothing shared):
#   1. a primary with WAL archiving (archive_command copies each segment to an archive folder)
#   2. rows "before-backup", then pg_basebackup (the base backup), then rows "after-backup"
#   3. note the time T; then rows "after-target"; switch WAL so the last segment is archived
#   4. the primary is stopped (the disaster); a new cluster is made from the base backup with
#      restore_command (from the archive) and recovery_target_time = T, and promoted
#   5. the restored cluster must hold exactly the rows committed before T: every "before-backup"
#      and "after-backup" row, no "after-target" row.
# The same steps, with pgBackRest or WAL-G in place of cp, are the production runbook
# (docs/disaster-recovery.md).
#
# Environment: PG_BIN (folder of initdb/pg_ctl/psql/pg_basebackup; found when unset),
# DRILL_USER (the OS user PostgreSQL runs as when this script runs as root; default nobody),
# KEEP=1 keeps the temp folder.
set -euo pipefail

find_pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/pg_basebackup" ]; then
    pg_config --bindir; return
  fi
  local d
  for d in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    [ -x "$d/pg_basebackup" ] && [ -x "$d/postgres" ] && { echo "$d"; return; }
  done
  d="$(python3 -c 'import pgserver, pathlib; print(pathlib.Path(pgserver.__file__).parent / "pginstall" / "bin")' 2>/dev/null || true)"
  [ -n "$d" ] && [ -x "$d/pg_basebackup" ] && { echo "$d"; return; }
  echo "restore-drill: no PostgreSQL binaries found (set PG_BIN)" >&2
  exit 2
}

BIN="$(find_pg_bin)"
WORK="$(mktemp -d /tmp/recap-restore-drill.XXXXXX)"
chmod 755 "$WORK"
RUN=()
if [ "$(id -u)" -eq 0 ]; then  # PostgreSQL refuses to run as root
  DRILL_USER="${DRILL_USER:-nobody}"
  chown "$DRILL_USER" "$WORK"
  RUN=(runuser -u "$DRILL_USER" --)
fi
as_pg() { (cd "$WORK" && "${RUN[@]}" "$@"); }

PRIMARY="$WORK/primary" RESTORED="$WORK/restored" ARCHIVE="$WORK/archive" BASE="$WORK/base"
port_for() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1="$(port_for)" P2="$(port_for)"

cleanup() {
  for d in "$RESTORED" "$PRIMARY"; do
    [ -f "$d/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1 || true
  done
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

sql() {  # sql PORT "statement" -> unaligned, tuples only
  as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK" -p "$1" -U postgres -d drill -At -c "$2"
}

as_pg mkdir -p "$ARCHIVE"
as_pg "$BIN/initdb" -D "$PRIMARY" -U postgres --auth=trust -E UTF8 >/dev/null
cat >> "$PRIMARY/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$WORK'
port = $P1
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $ARCHIVE/%f && cp %p $ARCHIVE/%f'
archive_timeout = 0
EOF
as_pg "$BIN/pg_ctl" -D "$PRIMARY" -l "$WORK/primary.log" -w start >/dev/null
as_pg "$BIN/createdb" -h "$WORK" -p "$P1" -U postgres drill
sql "$P1" "CREATE TABLE drill (id bigserial PRIMARY KEY, phase text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"
sql "$P1" "INSERT INTO drill (phase) SELECT 'before-backup' FROM generate_series(1, 100)"

as_pg "$BIN/pg_basebackup" -h "$WORK" -p "$P1" -U postgres -D "$BASE" -X stream -c fast >/dev/null

sql "$P1" "INSERT INTO drill (phase) SELECT 'after-backup' FROM generate_series(1, 50)"
EXPECTED="$(sql "$P1" "SELECT string_agg(id::text, ',' ORDER BY id) FROM drill")"
sleep 1
TARGET="$(sql "$P1" "SELECT clock_timestamp()")"
sleep 1
sql "$P1" "INSERT INTO drill (phase) SELECT 'after-target' FROM generate_series(1, 25)"
LAST="$(sql "$P1" "SELECT pg_walfile_name(pg_switch_wal())")"
for _ in $(seq 1 100); do  # wait until the segment holding the last commits is archived
  [ -f "$ARCHIVE/$LAST" ] && break
  sleep 0.1
done
[ -f "$ARCHIVE/$LAST" ] || { echo "restore-drill: WAL segment $LAST was not archived" >&2; exit 1; }
as_pg "$BIN/pg_ctl" -D "$PRIMARY" -m fast -w stop >/dev/null   # the disaster

as_pg cp -a "$BASE" "$RESTORED"
chmod 700 "$RESTORED"
cat >> "$RESTORED/postgresql.conf" <<EOF
port = $P2
archive_mode = off
restore_command = 'cp $ARCHIVE/%f %p'
recovery_target_time = '$TARGET'
recovery_target_action = 'promote'
EOF
as_pg touch "$RESTORED/recovery.signal"
as_pg "$BIN/pg_ctl" -D "$RESTORED" -l "$WORK/restored.log" -w -t 120 start >/dev/null
for _ in $(seq 1 300); do
  [ "$(sql "$P2" "SELECT pg_is_in_recovery()")" = "f" ] && break
  sleep 0.1
done

GOT="$(sql "$P2" "SELECT string_agg(id::text, ',' ORDER BY id) FROM drill")"
COUNTS="$(sql "$P2" "SELECT json_object_agg(phase, n) FROM (SELECT phase, count(*) AS n FROM drill GROUP BY phase) c")"
IN_RECOVERY="$(sql "$P2" "SELECT pg_is_in_recovery()")"
VERSION="$(sql "$P2" "SHOW server_version")"
OK=false
if [ "$GOT" = "$EXPECTED" ] && [ "$IN_RECOVERY" = "f" ]; then OK=true; fi
printf '{"ok": %s, "target_time": "%s", "restored_rows": %s, "expected_ids_match": %s, "promoted": %s, "postgres": "%s", "wal_segments_archived": %s}\n' \
  "$OK" "$TARGET" "$COUNTS" "$([ "$GOT" = "$EXPECTED" ] && echo true || echo false)" \
  "$([ "$IN_RECOVERY" = "f" ] && echo true || echo false)" "$VERSION" "$(find "$ARCHIVE" -type f | wc -l)"
$OK
