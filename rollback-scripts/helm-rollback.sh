#!/usr/bin/env bash
# helm-rollback.sh: roll a Helm release back with `helm rollback`, waiting for its resources.
#
# Without a revision, helm goes to the release's previous revision: running this twice for one
# incident undoes the first rollback. Pin one with --revision (a static rule argument), or use
# --expect-current to refuse when the release has moved on.
#
# Environment (set by the rollback controller, see README.md):
#   ROLLBACK_LABEL_HELM_RELEASE  release name (alert label `helm_release`); default ROLLBACK_TARGET
#   ROLLBACK_TARGET              fallback release name
#   ROLLBACK_NAMESPACE           release namespace
#   ROLLBACK_DRY_RUN             "true": print the command, run nothing
#   HELM                         helm binary (default: helm from PATH)
#
# Arguments (static, from the rule's script.args):
#   --revision N         release revision to go back to (default: the previous one)
#   --timeout DURATION   helm --timeout (default 5m)
#   --expect-current N   exit 3 without changes unless the deployed revision is N
#
# Exit codes:
#   0 rolled back and the release's resources are ready, or dry run
#   2 invalid input or usage (nothing was changed)
#   3 skipped: the release is not at the --expect-current revision (nothing was changed)
#   other: helm's exit code
set -euo pipefail

die() {
  printf 'helm-rollback: %s\n' "$1" >&2
  exit "${2:-2}"
}

revision=""
timeout=5m
expect_current=""
while (($# > 0)); do
  case "$1" in
    --revision | --timeout | --expect-current)
      (($# >= 2)) || die "$1 needs a value"
      case "$1" in
        --revision) revision="$2" ;;
        --timeout) timeout="$2" ;;
        --expect-current) expect_current="$2" ;;
      esac
      shift
      ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done

release="${ROLLBACK_LABEL_HELM_RELEASE:-${ROLLBACK_TARGET:-}}"
namespace="${ROLLBACK_NAMESPACE:-}"
dry_run="${ROLLBACK_DRY_RUN:-false}"
helm="${HELM:-helm}"

# Helm release names: lower-case DNS-1123 label style, at most 53 characters.
[[ "$release" =~ ^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$ ]] ||
  die "release name is missing or invalid (got '${release}'): set the helm_release label or ROLLBACK_TARGET"
[[ "$namespace" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] ||
  die "ROLLBACK_NAMESPACE is not a valid namespace (got '${namespace}')"
[[ -z "$revision" || "$revision" =~ ^[1-9][0-9]{0,9}$ ]] || die "revision must be a positive integer"
[[ -z "$expect_current" || "$expect_current" =~ ^[1-9][0-9]{0,9}$ ]] ||
  die "--expect-current must be a positive integer"
[[ "$timeout" =~ ^[0-9]+(ms|s|m|h)?$ ]] || die "--timeout must be a duration such as 90s or 5m"

cmd=(rollback "$release")
if [[ -n "$revision" ]]; then
  cmd+=("$revision")
fi
cmd+=(-n "$namespace" --wait --timeout "$timeout")

if [[ "$dry_run" == true ]]; then
  echo "DRY RUN: nothing will be changed"
  if [[ -n "$expect_current" ]]; then
    echo "would check that release ${release} in ${namespace} is at revision ${expect_current}"
  fi
  printf 'would run:'
  printf ' %q' "$helm" "${cmd[@]}"
  printf '\n'
  exit 0
fi

if [[ -n "$expect_current" ]]; then
  # `helm get metadata -o yaml` has a top-level "revision: N" line (no jq needed).
  current="$("$helm" get metadata "$release" -n "$namespace" -o yaml | sed -n 's/^revision: *//p')"
  if [[ "$current" != "$expect_current" ]]; then
    echo "skipped: release ${release} is at revision '${current}', not ${expect_current}"
    exit 3
  fi
fi

echo "rolling back release ${release} in ${namespace} to revision ${revision:-previous}"
"$helm" "${cmd[@]}"
echo "rollback of release ${release} finished"
