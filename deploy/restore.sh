#!/usr/bin/env bash
# Restores a backup made by deploy/backup.sh into a fresh database and photo directory.
#
#   createdb -h db.example -U postgres -O balagh balagh_restored
#   BALAGH_DATABASE_URL=postgres://balagh:…@db.example/balagh_restored \
#   BALAGH_PHOTOS_DIR=/var/lib/balagh/photos \
#     deploy/restore.sh /srv/backups/balagh-20261122T101500Z
#   balagh migrate        # applies nothing: the dump carries the migration history
#
# Same variables as `balagh` and deploy/backup.sh. The target must be empty: a PostgreSQL
# database without tables, a SQLite path that does not exist, an empty or missing photo
# directory. It refuses anything else rather than mix two installations. Stop `balagh`
# before restoring, start it afterwards.
set -euo pipefail

usage() {
  echo "usage: $0 BACKUP_DIR" >&2
  exit 2
}
[ "$#" -eq 1 ] || usage
backup=$1

database_url=${BALAGH_DATABASE_URL:-sqlite://./data/balagh.sqlite3}
storage=${BALAGH_PHOTOS_STORAGE:-local}
photos_dir=${BALAGH_PHOTOS_DIR:-./data/photos}

sqlite_path() {
  local path=${1#sqlite:}
  path=${path#//}
  printf '%s\n' "${path%%\?*}"
}

[ -f "$backup/SHA256SUMS" ] || { echo "restore: $backup has no SHA256SUMS: not a backup" >&2; exit 1; }
echo "restore: verifying checksums" >&2
(cd "$backup" && sha256sum --quiet --check SHA256SUMS)

case "$database_url" in
  postgres://* | postgresql://*)
    [ -f "$backup/database.dump" ] || { echo "restore: no database.dump (not a PostgreSQL backup)" >&2; exit 1; }
    tables=$(psql --no-psqlrc --tuples-only --no-align --dbname="$database_url" \
      --command="SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
    if [ "$tables" != "0" ]; then
      echo "restore: the target database already has $tables tables; restore into a new one" >&2
      exit 1
    fi
    echo "restore: restoring the PostgreSQL database" >&2
    pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
      --dbname="$database_url" "$backup/database.dump"
    ;;
  sqlite:*)
    [ -f "$backup/database.sqlite3" ] || { echo "restore: no database.sqlite3 (not a SQLite backup)" >&2; exit 1; }
    db=$(sqlite_path "$database_url")
    if [ -e "$db" ]; then
      echo "restore: $db already exists; move it away or restore elsewhere" >&2
      exit 1
    fi
    echo "restore: copying the SQLite database to $db" >&2
    mkdir -p "$(dirname "$db")"
    cp "$backup/database.sqlite3" "$db.restoring"
    mv "$db.restoring" "$db"
    ;;
  *)
    echo "restore: unsupported database URL (postgres:// or sqlite://)" >&2
    exit 1
    ;;
esac

case "$storage" in
  local)
    [ -f "$backup/photos.tar.gz" ] || { echo "restore: no photos.tar.gz in $backup" >&2; exit 1; }
    if [ -d "$photos_dir" ] && [ -n "$(ls -A "$photos_dir")" ]; then
      echo "restore: $photos_dir is not empty; restore into an empty directory" >&2
      exit 1
    fi
    echo "restore: unpacking the photos into $photos_dir" >&2
    mkdir -p "$photos_dir"
    tar -C "$photos_dir" -xzf "$backup/photos.tar.gz"
    ;;
  s3)
    echo "restore: photos are in S3: copy the saved bucket back (deploy/BACKUP.md)" >&2
    ;;
  *)
    echo "restore: unknown BALAGH_PHOTOS_STORAGE '$storage' (local or s3)" >&2
    exit 1
    ;;
esac

echo "restore: done; run \`balagh migrate\` (a no-op on a complete backup), then start balagh" >&2
