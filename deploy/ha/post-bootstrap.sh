#!/usr/bin/env bash
# Run once by Patroni on the member that creates the cluster (bootstrap.post_bootstrap),
# with a superuser connection string as $1: Balagh's role and database. The password comes
# from the container's environment (APP_ROLE_PASSWORD), never from a file in the image.
set -euo pipefail
: "${APP_ROLE_PASSWORD:?APP_ROLE_PASSWORD is not set}"
psql "$1" -v ON_ERROR_STOP=1 -v password="$APP_ROLE_PASSWORD" <<'SQL'
CREATE ROLE balagh LOGIN PASSWORD :'password';
CREATE DATABASE balagh OWNER balagh;
SQL
