#!/usr/bin/env bash
# Regenerates schemas/migrations/0000_init.sql from the whole drizzle schema.
# Only valid while no migration has been released: once 0000 has shipped, use `npm run db:generate`
# to add a new migration instead, and never edit a released one.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf schemas/migrations
npx drizzle-kit generate --name init >/dev/null
ls schemas/migrations
