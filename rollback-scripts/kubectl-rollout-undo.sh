#!/usr/bin/env bash
# kubectl-rollout-undo.sh: roll a Deployment, StatefulSet or DaemonSet back to a pinned revision
# with `kubectl rollout undo --to-revision`, then wait with `kubectl rollout status`.
#
# Pinned on purpose: `kubectl rollout undo` without a revision goes to "the previous one", so a
# repeated alert would undo the undo. Without ROLLBACK_TO_REVISION the script refuses to run
# unless the rule passes --allow-unpinned.
#
# Environment (set by the rollback controller, see README.md):
#   ROLLBACK_KIND            Deployment | StatefulSet | DaemonSet (case-insensitive)
#   ROLLBACK_TARGET          workload name
#   ROLLBACK_NAMESPACE       namespace
#   ROLLBACK_TO_REVISION     revision to go back to (required unless --allow-unpinned)
#   ROLLBACK_FROM_REVISION   revision that was current when the alert fired (for --check-from-revision)
#   ROLLBACK_DRY_RUN         "true": print the commands, run nothing
#   KUBECTL                  kubectl binary (default: kubectl from PATH)
#
# Arguments (static, from the rule's script.args):
#   --allow-unpinned         without ROLLBACK_TO_REVISION, undo to the previous revision
#   --check-from-revision    first check that the current revision is ROLLBACK_FROM_REVISION
#                            and exit 3 if the workload has moved on
#   --timeout DURATION       `kubectl rollout status` timeout (default 10m)
#   --no-wait                do not wait for the rollout
#
# Exit codes:
#   0 rolled back (and the rollout finished), or dry run
#   2 invalid input or usage (nothing was changed)
#   3 skipped: the workload is no longer at ROLLBACK_FROM_REVISION (nothing was changed)
#   other: kubectl's exit code (undo or rollout status failed)
set -euo pipefail

die() {
  printf 'kubectl-rollout-undo: %s\n' "$1" >&2
  exit "${2:-2}"
}

allow_unpinned=false
check_from=false
wait_rollout=true
timeout=10m
while (($# > 0)); do
  case "$1" in
    --allow-unpinned) allow_unpinned=true ;;
    --check-from-revision) check_from=true ;;
    --no-wait) wait_rollout=false ;;
    --timeout)
      (($# >= 2)) || die "--timeout needs a value"
      timeout="$2"
      shift
      ;;
    --timeout=*) timeout="${1#--timeout=}" ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done

kind="${ROLLBACK_KIND:-}"
target="${ROLLBACK_TARGET:-}"
namespace="${ROLLBACK_NAMESPACE:-}"
to_revision="${ROLLBACK_TO_REVISION:-}"
from_revision="${ROLLBACK_FROM_REVISION:-}"
dry_run="${ROLLBACK_DRY_RUN:-false}"
kubectl="${KUBECTL:-kubectl}"

# Validate everything that reaches kubectl: alert labels are untrusted input.
case "${kind,,}" in
  deployment | statefulset | daemonset) ;;
  *) die "ROLLBACK_KIND must be Deployment, StatefulSet or DaemonSet (got '${kind}')" ;;
esac
[[ "$target" =~ ^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$ ]] ||
  die "ROLLBACK_TARGET is not a valid Kubernetes name (got '${target}')"
[[ "$namespace" =~ ^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$ ]] ||
  die "ROLLBACK_NAMESPACE is not a valid namespace (got '${namespace}')"
[[ "$timeout" =~ ^[0-9]+(ms|s|m|h)?$ ]] || die "--timeout must be a duration such as 90s or 10m"
if [[ -n "$to_revision" ]]; then
  [[ "$to_revision" =~ ^[1-9][0-9]{0,18}$ ]] || die "ROLLBACK_TO_REVISION must be a positive integer"
elif [[ "$allow_unpinned" != true ]]; then
  die "ROLLBACK_TO_REVISION is not set: refusing an unpinned undo (pass --allow-unpinned to go to the previous revision)"
fi
if [[ "$check_from" == true ]]; then
  [[ "$from_revision" =~ ^[1-9][0-9]{0,18}$ ]] ||
    die "--check-from-revision needs ROLLBACK_FROM_REVISION to be a positive integer"
fi

resource="${kind,,}/${target}"
undo=(rollout undo "$resource" -n "$namespace")
if [[ -n "$to_revision" ]]; then
  undo+=("--to-revision=${to_revision}")
fi
status=(rollout status "$resource" -n "$namespace" "--timeout=${timeout}")

# The revision kubectl would undo from: the Deployment's revision annotation, or for
# StatefulSets and DaemonSets the highest ControllerRevision the workload owns.
current_revision() {
  if [[ "${kind,,}" == deployment ]]; then
    "$kubectl" get "$resource" -n "$namespace" \
      -o 'jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}'
  else
    "$kubectl" get controllerrevisions -n "$namespace" \
      -o "jsonpath={range .items[?(@.metadata.ownerReferences[0].name==\"${target}\")]}{.revision}{\"\\n\"}{end}" |
      sort -n | tail -n 1
  fi
}

if [[ "$dry_run" == true ]]; then
  echo "DRY RUN: nothing will be changed"
  if [[ "$check_from" == true ]]; then
    echo "would check that ${resource} in ${namespace} is at revision ${from_revision}"
  fi
  printf 'would run:'
  printf ' %q' "$kubectl" "${undo[@]}"
  printf '\n'
  if [[ "$wait_rollout" == true ]]; then
    printf 'would run:'
    printf ' %q' "$kubectl" "${status[@]}"
    printf '\n'
  fi
  exit 0
fi

if [[ "$check_from" == true ]]; then
  current="$(current_revision)"
  if [[ "$current" != "$from_revision" ]]; then
    echo "skipped: ${resource} is at revision '${current}', not ${from_revision}: it moved on since the alert"
    exit 3
  fi
  echo "${resource} is at revision ${current} as expected"
fi

echo "rolling back ${resource} in ${namespace} to revision ${to_revision:-previous}"
"$kubectl" "${undo[@]}"
if [[ "$wait_rollout" == true ]]; then
  "$kubectl" "${status[@]}"
fi
echo "rollback of ${resource} finished"
