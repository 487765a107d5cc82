#!/usr/bin/env bash
# A compliance officer's walk-through: the history of one organization, the
# tenant's trail exported, and who looked at what.
# Run against `make run` (development headers on):  bash docs/compliance-officer.sh
# Needs curl and python3. BASE defaults to the local API, OUT (where exports
# are saved) to a new temporary folder. Step 6 runs the `assurehub` command
# (ASSUREHUB, default `assurehub`) with the database settings of the
# environment, as `make run` has them.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
TENANT=${TENANT:-acme-cert-$RANDOM$RANDOM}
OUT=${OUT:-$(mktemp -d)}
ASSUREHUB=${ASSUREHUB:-assurehub}
as() { # as ACTOR ROLE: the development headers of a caller
  printf -- '-H\nX-Dev-Tenant: %s\n-H\nX-Dev-Actor: %s\n-H\nX-Dev-Roles: %s\n' "$TENANT" "$1" "$2"
}
call() { # call METHOD ACTOR ROLE PATH [CURL ARGS...]: prints the answer, fails on an error
  local method=$1 actor=$2 role=$3 path=$4
  local args=()
  while IFS= read -r line; do args+=("$line"); done < <(as "$actor" "$role")
  curl -sS --fail-with-body -X "$method" "${args[@]}" "${@:5}" "$BASE$path"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
json() { printf -- '-H\nContent-Type: application/json\n-d\n%s\n' "$1"; }
post() { # post ACTOR ROLE PATH JSON
  local args=()
  while IFS= read -r line; do args+=("$line"); done < <(json "$4")
  call POST "$1" "$2" "$3" "${args[@]}"
}

# 1. Something to look back on: a programme manager registers a client
#    organization and renames it (each command answers its store position).
ORG=$(post pm programme_manager /organizations '{"name": "Nordic Valves AB", "country": "SE"}' | field id)
POS=$(post pm programme_manager "/organizations/$ORG/rename" '{"name": "Nordic Valves Group AB"}' | field position)
call GET cora compliance_officer "/organizations/$ORG?min_position=$POS" >/dev/null

# 2. The organization's history: every event, oldest first, with who made the
#    change and the change itself in its public JSON. Pages of `limit` events;
#    send `next_cursor` back as `cursor` for the next. Filters: type, actor,
#    recorded_from / recorded_to (RFC 3339).
call GET cora compliance_officer "/organizations/$ORG/history?limit=50" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    data = json.dumps(e["data"], sort_keys=True)
    print("v%s %s by %s: %s" % (e["version"], e["type"], e["actor"]["id"], data))'

# 3. The same history as a spreadsheet (format=csv; format=jsonl for JSON Lines).
call GET cora compliance_officer "/organizations/$ORG/history?format=csv" -o "$OUT/organization-history.csv"
echo "history CSV: $(($(wc -l < "$OUT/organization-history.csv") - 1)) events"

# 4. The tenant's whole trail, every event of every aggregate in store order,
#    exported as JSON Lines (or paged as JSON without format=jsonl; filters
#    as above plus aggregate_type and aggregate_id).
call GET cora compliance_officer "/audit-trail?format=jsonl" -o "$OUT/trail.jsonl"
echo "trail: $(wc -l < "$OUT/trail.jsonl") events"

# 5. Who looked: every read of history, of past states, of the trail and of
#    documents by staff is recorded before it is answered, and listed in the
#    trail as access.recorded (reading this list is recorded too).
call GET cora compliance_officer "/audit-trail?type=access.recorded" | python3 -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    d = e["data"]
    print("%s read %s (%s) from %s" % (e["actor"]["id"], d["route"], d["query"], d["address"]))'

# 6. The same trail offline, straight from the database, for an auditor of
#    the auditors (the export is recorded in the trail as well).
FROM=$(python3 -c 'import datetime as d; print((d.datetime.now(d.UTC) - d.timedelta(days=1)).isoformat())')
TO=$(python3 -c 'import datetime as d; print((d.datetime.now(d.UTC) + d.timedelta(minutes=5)).isoformat())')
"$ASSUREHUB" export-history --tenant "$TENANT" --from "$FROM" --to "$TO" "$OUT/offline-trail.jsonl"
echo "offline trail: $(wc -l < "$OUT/offline-trail.jsonl") events"
