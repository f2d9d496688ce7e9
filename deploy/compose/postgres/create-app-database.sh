#!/bin/sh
# Runs once, on an empty data directory (docker-entrypoint-initdb.d): the app database
# `ticketflow` and its own role, apart from Temporal's `temporal` and `temporal_visibility`.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v app_password="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE ticketflow LOGIN PASSWORD :'app_password';
CREATE DATABASE ticketflow OWNER ticketflow;
SQL
