#!/bin/sh
# The stack's first step (service `check-secrets` in docker-compose.yaml): every other service waits for it to
# succeed. It refuses secrets that are empty, still the placeholders of .env.example ("change-me..."), or
# unusable: a Fernet key that is not one, short signing secrets, passwords that would break the URLs they go into.
# Each problem is printed with the variable's name; the exit status is 1 if there is any. Values are never printed.
set -u

SECRETS="AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY AIRFLOW__CORE__FERNET_KEY
POSTGRES_PASSWORD WAREHOUSE_PASSWORD REDIS_PASSWORD _AIRFLOW_WWW_USER_PASSWORD
ELT_LOADER_PASSWORD ELT_TRANSFORMER_PASSWORD ELT_ANALYST_PASSWORD"
SIGNING_SECRETS="AIRFLOW__API_AUTH__JWT_SECRET AIRFLOW__API__SECRET_KEY"
URL_PASSWORDS="POSTGRES_PASSWORD WAREHOUSE_PASSWORD REDIS_PASSWORD ELT_LOADER_PASSWORD ELT_TRANSFORMER_PASSWORD
ELT_ANALYST_PASSWORD"
MIN_SIGNING_LENGTH=32

problems=0
problem() {
    echo "check-secrets: $1 $2" >&2
    problems=$((problems + 1))
}
matches() {  # matches VALUE EXTENDED-REGEX
    printf '%s' "$1" | grep -Eq "$2"
}
in_list() {  # in_list WORD "SPACE-SEPARATED LIST"
    case " $2 " in *" $1 "*) return 0 ;; esac
    return 1
}
check() {  # check NAME: its first problem, if any
    name=$1
    value=$(printenv "$name" || true)
    if [ -z "$value" ]; then
        problem "$name" "is empty or not set: set it in .env (see .env.example)"
    elif printf '%s' "$value" | grep -qi 'change-me'; then
        problem "$name" "is still the placeholder of .env.example: set a secret of your own in .env"
    elif [ "$name" = AIRFLOW__CORE__FERNET_KEY ] && ! matches "$value" '^[A-Za-z0-9_-]{43}=$'; then
        problem "$name" "is not a Fernet key (44 characters of url-safe base64): python -c \"from\
 cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\""
    elif in_list "$name" "$SIGNING_SECRETS" && [ "${#value}" -lt "$MIN_SIGNING_LENGTH" ]; then
        problem "$name" "is shorter than $MIN_SIGNING_LENGTH characters: python -c \"import secrets;\
 print(secrets.token_urlsafe(32))\""
    elif in_list "$name" "$URL_PASSWORDS" && ! matches "$value" '^[A-Za-z0-9._~-]+$'; then
        problem "$name" "has characters that would need percent-encoding in the connection URLs: use letters,\
 digits, . _ ~ -"
    fi
}

for secret in $SECRETS; do
    check "$secret"
done

if [ "$problems" -gt 0 ]; then
    echo "check-secrets: $problems problem(s); the stack does not start. Edit .env, then: docker compose up -d" >&2
    exit 1
fi
echo "check-secrets: ok"
