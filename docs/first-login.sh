#!/usr/bin/env bash
# First login, as a new installation lives it: the operator invites the first
# platform administrator from the command line; everything after that is the
# API, with real tokens. Run it against `make run` (in another terminal):
#   bash docs/first-login.sh
# Needs curl and python3. The e-mails are read from MAIL_DIR, where the
# development mail sender writes them; the authenticator app is played by
# pyotp from the project's virtualenv.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
API=${API:-http://127.0.0.1:8000}
MAIL_DIR=${MAIL_DIR:-$ROOT/var/mail}
SUFFIX=${SUFFIX:-$RANDOM$RANDOM}
ASSUREHUB=${ASSUREHUB:-$ROOT/.venv/bin/assurehub}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
if [[ -z ${ASSUREHUB_DATABASE_URL:-} && -f $ROOT/var/services.env ]]; then
  set -a; . "$ROOT/var/services.env"; set +a  # the CLI talks to the database
fi
export ASSUREHUB_ENV=${ASSUREHUB_ENV:-development}

OPERATOR=olga.$SUFFIX@example.com
TENANT=acme-cert-$SUFFIX
ADMIN=ada.$SUFFIX@example.com
PASSWORD=plum-orbit-thunder-basket-64

post() { # post PATH JSON [ACCESS_TOKEN]: prints the answer, fails on an error
  curl -sS --fail-with-body -X POST "$API$1" -H 'Content-Type: application/json' \
    ${3:+-H "Authorization: Bearer $3"} -d "$2"
}
get() { # get PATH ACCESS_TOKEN
  curl -sS --fail-with-body "$API$1" -H "Authorization: Bearer $2"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
mail_token() { # mail_token ADDRESS: the Token line of the newest mail to ADDRESS
  for _ in $(seq 60); do
    python3 - "$MAIL_DIR" "$1" <<'PY' && return 0
import email, email.policy, pathlib, sys
folder, to = pathlib.Path(sys.argv[1]), sys.argv[2]
for path in sorted(folder.glob("*.eml"), reverse=True):  # newest first
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    if mail["To"].strip().lower() == to:
        for line in mail.get_body(("plain",)).get_content().splitlines():
            if line.startswith("Token: "):
                print(line.removeprefix("Token: "))
                sys.exit(0)
sys.exit(1)
PY
    sleep 0.5
  done
  echo "no mail to $1 in $MAIL_DIR (is \`make run\` running?)" >&2
  return 1
}
totp() { # totp SECRET [STEPS_AHEAD]: what the authenticator app shows
  "$PYTHON" -c "import pyotp,sys,time; print(pyotp.TOTP(sys.argv[1]).at(time.time(), counter_offset=int(sys.argv[2])))" "$1" "${2:-0}"
}
login() { # login TENANT EMAIL: the answer of the first login step
  post /auth/login "{\"tenant\": \"$1\", \"email\": \"$2\", \"password\": \"$PASSWORD\"}"
}

# 1. The operator invites the first platform administrator (the only step
#    outside the API); the invitation e-mail carries a single-use token.
"$ASSUREHUB" invite-platform-admin --email "$OPERATOR" --name "Olga Operator"
post /auth/invitations/accept \
  "{\"token\": \"$(mail_token "$OPERATOR")\", \"password\": \"$PASSWORD\"}" >/dev/null
# Platform administrators log in to the reserved tenant `platform`.
OPS=$(login platform "$OPERATOR" | field access_token)

# 2. The platform administrator creates a tenant; its first administrator is
#    invited by e-mail, accepts and logs in.
post /platform/tenants "{\"tenant_id\": \"$TENANT\", \"name\": \"Acme Certification\",
  \"administrator\": {\"email\": \"$ADMIN\", \"name\": \"Ada Admin\"}}" "$OPS" >/dev/null
post /auth/invitations/accept \
  "{\"token\": \"$(mail_token "$ADMIN")\", \"password\": \"$PASSWORD\"}" >/dev/null
ACCESS=$(login "$TENANT" "$ADMIN" | field access_token)

# 3. Enroll an authenticator app: scan the QR code (or type the secret), then
#    confirm with the first code it shows; ten recovery codes come back once.
SECRET=$(post /me/mfa/totp '{}' "$ACCESS" | field secret)
post /me/mfa/totp/confirm "{\"code\": \"$(totp "$SECRET")\"}" "$ACCESS" >/dev/null

# 4. From now on login takes two steps: the password, then a code (each code
#    is accepted once, so this uses the app's next one).
MFA=$(login "$TENANT" "$ADMIN" | field mfa_token)
ACCESS=$(post /auth/login/mfa \
  "{\"mfa_token\": \"$MFA\", \"code\": \"$(totp "$SECRET" 1)\"}" | field access_token)

# 5. Call the API with the access token.
get /me "$ACCESS"
echo
get /organizations "$ACCESS"
echo
echo "first login done: $ADMIN administers $TENANT, with a second factor"
