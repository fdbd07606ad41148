#!/usr/bin/env bash
# Backs up a Balagh installation: the database, then the local photo directory.
#
#   BALAGH_DATABASE_URL=postgres://… BALAGH_PHOTOS_DIR=/var/lib/balagh/photos \
#     deploy/backup.sh /srv/backups
#
# Reads the same variables as `balagh` (deploy/CONFIGURATION.md): BALAGH_DATABASE_URL
# (postgres://… or sqlite://PATH; default sqlite://./data/balagh.sqlite3),
# BALAGH_PHOTOS_STORAGE (local or s3; default local) and BALAGH_PHOTOS_DIR (default
# ./data/photos). The service may keep running: pg_dump takes a consistent snapshot and
# SQLite's online backup copies a consistent file.
#
# Writes DEST/balagh-<UTC time>/ with
#   database.dump       PostgreSQL custom-format dump (pg_dump -Fc), or
#   database.sqlite3    a copy of the SQLite database (sqlite3 .backup)
#   photos.tar.gz       the local photo directory (local storage only)
#   SHA256SUMS          checksums, verified by deploy/restore.sh
# and prints that directory's path on standard output.
#
# The database is copied before the photos, so every photo the database names is in the
# copy (a photo stored after the dump is only an unreferenced extra file). With S3 storage
# the photos stay in the bucket: copy it with your S3 tooling after this script
# (deploy/BACKUP.md).
set -euo pipefail

usage() {
  echo "usage: $0 DEST_DIR" >&2
  exit 2
}
[ "$#" -eq 1 ] || usage
dest_root=$1

database_url=${BALAGH_DATABASE_URL:-sqlite://./data/balagh.sqlite3}
storage=${BALAGH_PHOTOS_STORAGE:-local}
photos_dir=${BALAGH_PHOTOS_DIR:-./data/photos}

# The path of a sqlite:// (or sqlite:) URL, without its ?options.
sqlite_path() {
  local path=${1#sqlite:}
  path=${path#//}
  printf '%s\n' "${path%%\?*}"
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$dest_root/balagh-$stamp"
if [ -e "$out" ]; then
  echo "backup: $out already exists" >&2
  exit 1
fi
umask 077
mkdir -p "$out"

case "$database_url" in
  postgres://* | postgresql://*)
    command -v pg_dump >/dev/null || { echo "backup: pg_dump is not installed" >&2; exit 1; }
    echo "backup: dumping the PostgreSQL database" >&2
    # No owners or grants: the dump restores into any role's fresh database.
    pg_dump --format=custom --no-owner --no-privileges \
      --file="$out/database.dump" --dbname="$database_url"
    ;;
  sqlite:*)
    command -v sqlite3 >/dev/null || { echo "backup: sqlite3 is not installed" >&2; exit 1; }
    db=$(sqlite_path "$database_url")
    [ -f "$db" ] || { echo "backup: no SQLite database at $db" >&2; exit 1; }
    echo "backup: copying the SQLite database $db" >&2
    sqlite3 "$db" ".timeout 10000" ".backup '$out/database.sqlite3'"
    ;;
  *)
    echo "backup: unsupported database URL (postgres:// or sqlite://)" >&2
    exit 1
    ;;
esac

case "$storage" in
  local)
    if [ -d "$photos_dir" ]; then
      echo "backup: archiving the photo directory $photos_dir" >&2
      tar -C "$photos_dir" -czf "$out/photos.tar.gz" .
    else
      echo "backup: no photo directory at $photos_dir (no photos yet?)" >&2
      tar -czf "$out/photos.tar.gz" --files-from /dev/null
    fi
    ;;
  s3)
    echo "backup: photos are in S3 (bucket ${BALAGH_PHOTOS_S3_BUCKET:-?}): copy the bucket now," >&2
    echo "  e.g. aws s3 sync s3://BUCKET /srv/backups/photos (deploy/BACKUP.md)" >&2
    ;;
  *)
    echo "backup: unknown BALAGH_PHOTOS_STORAGE '$storage' (local or s3)" >&2
    exit 1
    ;;
esac

(cd "$out" && sha256sum -- * > SHA256SUMS)
echo "backup: done" >&2
printf '%s\n' "$out"
