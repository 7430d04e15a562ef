#!/usr/bin/env bash
# custom-template.sh: a starting point for your own rollback script. Copy it, rename it, fill in
# do_rollback, and point a rule at it (`script: { path: my-rollback.sh, args: [...] }`).
#
# It shows how to:
#   - read alert data from the environment (labels arrive as ROLLBACK_LABEL_<NAME>);
#   - read fields from the JSON file in ROLLBACK_ALERT_FILE with plain bash (no jq, no node),
#     relying on the controller writing it with two-space indentation, one key per line;
#   - validate everything before using it: alert data is untrusted input;
#   - honour ROLLBACK_DRY_RUN=true by printing the plan and changing nothing.
#
# Environment (set by the rollback controller, see README.md):
#   ROLLBACK_ALERTNAME, ROLLBACK_TRIGGER, ROLLBACK_CONFIDENCE, ROLLBACK_JOB_ID
#   ROLLBACK_KIND, ROLLBACK_NAMESPACE, ROLLBACK_TARGET
#   ROLLBACK_LABEL_<NAME>        one per alert label
#   ROLLBACK_ALERT_FILE          JSON: job id, trigger, confidence, target, alert labels/annotations
#   ROLLBACK_DRY_RUN             "true": print the plan, change nothing
#
# Exit codes:
#   0 done (or dry run)
#   2 invalid input (nothing was changed)
#   4 the template's do_rollback has not been filled in
#
# Rules of thumb: quote every expansion ("$var"), never eval alert data or pass it to `sh -c`,
# put `--` before arguments that come from labels, and exit non-zero on anything unexpected:
# the controller records the exit code and the last lines of output on the job.
set -euo pipefail

die() {
  printf 'custom-template: %s\n' "$1" >&2
  exit "${2:-2}"
}

# Decodes one JSON string body (the text between the quotes) without evaluating anything.
json_unescape() {
  local s="$1" out="" plain ch hex
  while [[ -n "$s" ]]; do
    plain="${s%%\\*}"
    if [[ -n "$plain" ]]; then
      out+="$plain"
      s="${s:${#plain}}"
      continue
    fi
    case "${s:1:1}" in
      '"') out+='"' ;;
      \\) out+="\\" ;;
      '/') out+='/' ;;
      b) out+=$'\b' ;;
      f) out+=$'\f' ;;
      n) out+=$'\n' ;;
      r) out+=$'\r' ;;
      t) out+=$'\t' ;;
      u)
        hex="${s:2:4}"
        [[ "$hex" =~ ^[0-9a-fA-F]{4}$ ]] || return 1
        # The format is built only from four validated hex digits.
        # shellcheck disable=SC2059
        printf -v ch "\\u${hex}"
        out+="$ch"
        s="${s:4}"
        ;;
      *) return 1 ;;
    esac
    s="${s:2}"
  done
  printf '%s' "$out"
}

# alert_value SECTION KEY: a string from the alert file. SECTION is "" for the top level,
# "alert" for the alert's own fields, or "labels" / "annotations". Prints nothing if absent.
alert_value() {
  local section="$1" key="$2" indent line in_section=false re
  [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || return 1
  case "$section" in
    "") indent="  " in_section=true ;;
    alert) indent="    " ;;
    labels | annotations) indent="      " ;;
    *) return 1 ;;
  esac
  re="^${indent}\"${key}\": \"(.*)\",?$"
  while IFS= read -r line; do
    case "$section:$line" in
      "alert:  \"alert\": {") in_section=true ;;
      "labels:    \"labels\": {" | "annotations:    \"annotations\": {") in_section=true ;;
      *)
        if [[ "$in_section" == true && "$line" =~ $re ]]; then
          json_unescape "${BASH_REMATCH[1]}"
          return 0
        fi
        # Leaving the section: its closing brace, two spaces left of its keys.
        if [[ "$in_section" == true && -n "$section" && "$line" == "${indent:2}}"* ]]; then
          return 0
        fi
        ;;
    esac
  done <"$ROLLBACK_ALERT_FILE"
}

[[ -r "${ROLLBACK_ALERT_FILE:-}" ]] || die "ROLLBACK_ALERT_FILE is not set or not readable"

namespace="${ROLLBACK_NAMESPACE:-}"
target="${ROLLBACK_TARGET:-}"
severity="${ROLLBACK_LABEL_SEVERITY:-unknown}"
job_id="$(alert_value "" jobId)"
summary="$(alert_value annotations summary)"
starts_at="$(alert_value alert startsAt)"

[[ "$namespace" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] ||
  die "ROLLBACK_NAMESPACE is not a valid namespace (got '${namespace}')"
[[ "$target" =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] ||
  die "ROLLBACK_TARGET is not a valid name (got '${target}')"

do_rollback() {
  # Replace this body with the real action, for example:
  #   kubectl -n "$namespace" set image "deployment/${target}" app="registry.example/app:stable"
  die "this is a template: fill in do_rollback in a copy of custom-template.sh" 4
}

echo "job ${job_id}: ${ROLLBACK_ALERTNAME:-?} (${severity}) on ${namespace}/${target}"
echo "alert started at ${starts_at}"
printf 'summary: %s\n' "$summary"

if [[ "${ROLLBACK_DRY_RUN:-false}" == true ]]; then
  echo "DRY RUN: would run do_rollback for ${namespace}/${target}; nothing changed"
  exit 0
fi
do_rollback
