#!/usr/bin/env bash
# From planning an audit to issuing a certificate, as the frontend would,
# ending with the audit report and the certificate's PDF downloaded.
# Run against `make run` (development headers on):  bash docs/walkthrough.sh
# Needs curl and python3; BASE defaults to the local API, OUT (where the
# documents are saved) to a new temporary folder.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
TENANT=${TENANT:-acme-cert-$RANDOM$RANDOM}
OUT=${OUT:-$(mktemp -d)}
as() { # as ACTOR ROLE: the development headers of a caller
  printf -- '-H\nX-Dev-Tenant: %s\n-H\nX-Dev-Actor: %s\n-H\nX-Dev-Roles: %s\n' "$TENANT" "$1" "$2"
}
post() { # post ACTOR ROLE PATH [JSON]: prints the answer, fails on an error
  local actor=$1 role=$2 path=$3 body=${4:-}
  local args=()
  while IFS= read -r line; do args+=("$line"); done < <(as "$actor" "$role")
  curl -sS --fail-with-body -X POST "$BASE$path" "${args[@]}" \
    -H 'Content-Type: application/json' ${body:+-d "$body"}
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
get() { # get ACTOR ROLE PATH [CURL ARGS...]: prints the answer (404 and 503 too)
  local actor=$1 role=$2 path=$3
  local args=()
  while IFS= read -r line; do args+=("$line"); done < <(as "$actor" "$role")
  curl -sS "${args[@]}" "${@:4}" "$BASE$path"
}
ready() { # ready PATH: waits (60 s at most) for a document to be rendered; prints it
  local answer
  for _ in $(seq 300); do
    answer=$(get pm programme_manager "$1")
    case "$answer" in *'"status":"ready"'*) echo "$answer"; return;;
      *'"status":"failed"'*) echo "$answer" >&2; return 1;; esac
    sleep 0.2
  done
  echo "not rendered in time: $answer" >&2; return 1
}

# 1. The client organization and its site.
ORG=$(post pm programme_manager /organizations \
  '{"name": "Nordic Valves AB", "country": "SE"}' | field id)
SITE=$(post pm programme_manager "/organizations/$ORG/sites" \
  '{"name": "Gothenburg plant", "address": "Hamnvagen 1, Gothenburg"}' | field site_id)

# 2. The checklist: a standard template with two clauses, published as version 1.
TPL=$(post pm programme_manager /standard-templates \
  '{"standard_name": "ISO 9001", "edition": "2015", "title": "Quality management systems"}' | field id)
post pm programme_manager "/standard-templates/$TPL/clauses" \
  '{"clause_id": "8", "title": "Operation", "text": "Operational planning and control"}' >/dev/null
post pm programme_manager "/standard-templates/$TPL/clauses" \
  '{"clause_id": "8.5", "title": "Production", "text": "Control of production", "parent_id": "8"}' >/dev/null
post pm programme_manager "/standard-templates/$TPL/publish" >/dev/null

# 3. Document templates: the report layout, and the certificate layout the
#    tenant's certificates are rendered with from now on.
REPORT=$(post pm programme_manager /document-templates '{"kind": "audit_report",
  "title": "Audit report", "branding": "ACME Certification Ltd",
  "sections": ["summary", "scope", "team", "assessment", "findings", "conclusion", "signatures"],
  "signature_block": "For ACME Certification Ltd"}' | field id)
LAYOUT=$(post pm programme_manager /document-templates '{"kind": "certificate",
  "title": "Certificate of registration", "branding": "ACME Certification Ltd",
  "sections": ["holder", "scope", "sites", "validity", "signatures"],
  "signature_block": "For ACME Certification Ltd"}' | field id)
post admin tenant_admin /tenant/settings/certificate-template "{\"template_id\": \"$LAYOUT\"}" >/dev/null

# 4. An audit of each stage: planned, team assigned, started, clause assessed.
plan_and_start() { # plan_and_start TYPE START END: prints the audit id
  local audit
  audit=$(post pm programme_manager /audits "{
    \"organization_id\": \"$ORG\", \"site_ids\": [\"$SITE\"],
    \"standard_template_id\": \"$TPL\", \"standard_version\": 1,
    \"audit_type\": \"$1\", \"planned_start\": \"$2\",
    \"planned_end\": \"$3\", \"scope_statement\": \"Design and manufacture of valves\"}" | field id)
  post pm programme_manager "/audits/$audit/assign-team" \
    '{"lead_auditor": "lena", "auditors": ["omar"]}' >/dev/null
  post lena auditor "/audits/$audit/start" >/dev/null
  post lena auditor "/audits/$audit/assess" '{"clause_id": "8.5", "result": "conforming"}' >/dev/null
  echo "$audit"
}
# Technical review by someone outside the team, then the decision by another.
review_and_decide() { # review_and_decide AUDIT SUMMARY REASONS
  post lena auditor "/audits/$1/report" "{\"summary\": \"$2\"}" >/dev/null
  post lena auditor "/audits/$1/submit" '{"technical_reviewer": "rita"}' >/dev/null
  post rita technical_reviewer "/audits/$1/approve-review" >/dev/null
  post dan decision_maker "/audits/$1/decide" \
    "{\"outcome\": \"grant\", \"reasons\": \"$3\"}" >/dev/null
}

# 5. Stage 1, with a minor nonconformity: the client responds, the lead
#    auditor accepts the plan; stage 1 is decided and closed.
STAGE1=$(plan_and_start stage_1 2026-12-01 2026-12-02)
FINDING=$(post lena auditor "/audits/$STAGE1/findings" '{
  "clause_id": "8.5", "grade": "minor_nonconformity",
  "description": "Calibration record missing for torque wrench TW-7",
  "objective_evidence": "Record TW-7 absent from the calibration log"}' | field finding_id)
post karin client_admin "/audits/$STAGE1/findings/$FINDING/respond" '{
  "root_cause": "Tool added after the last calibration round",
  "correction": "TW-7 calibrated", "corrective_action": "New tools enter the log on receipt",
  "due_date": "2027-01-31"}' >/dev/null
post lena auditor "/audits/$STAGE1/findings/$FINDING/accept-response" >/dev/null
review_and_decide "$STAGE1" "Stage 1 readiness confirmed" "Ready for stage 2; one minor with an accepted plan"
post lena auditor "/audits/$STAGE1/close" >/dev/null

# 6. Stage 2 (it needs the closed stage 1): clean, reviewed, granted.
AUDIT=$(plan_and_start stage_2 2027-01-10 2027-01-12)
review_and_decide "$AUDIT" "Stage 2: requirements met" "Requirements of ISO 9001 met"

# 7. Issue the certificate on the stage 2 grant (its number and one-time
#    verification code come back), then close the audit.
CERT=$(post dan decision_maker /certificates "{
  \"audit_id\": \"$AUDIT\",
  \"site_scopes\": [{\"site_id\": \"$SITE\", \"scope\": \"Design and manufacture of valves\"}],
  \"effective_date\": \"$(date -u +%F)\", \"expiry_date\": \"$(date -u -d '+3 years' +%F)\"}")
echo "$CERT"
post lena auditor "/audits/$AUDIT/close" >/dev/null
echo "audit $AUDIT closed; certificate $(echo "$CERT" | field number) issued"

# 8. The audit report, rendered by the document processor: asked for (202),
#    waited for, downloaded under its own name and checked as the file issued.
#    The certificate's PDF was asked for by the processor when it was issued.
DOC=$(post pm programme_manager "/audits/$AUDIT/documents" \
  "{\"kind\": \"audit_report\", \"template_id\": \"$REPORT\", \"format\": \"pdf\"}" | field id)
ready "/documents/$DOC" >/dev/null
(cd "$OUT" && get pm programme_manager "/documents/$DOC/content" -fOJ)
get pm programme_manager "/documents/$DOC/verify" -f -F "file=@$(ls "$OUT"/*.pdf | head -1)"
echo
CERT_DOC=$(ready "/certificates/$(echo "$CERT" | field id)/document" | field id)
mkdir -p "$OUT/certificate"
(cd "$OUT/certificate" && get pm programme_manager "/documents/$CERT_DOC/content" -fOJ)
echo "documents saved in $OUT:"
ls -1 "$OUT" "$OUT/certificate"
