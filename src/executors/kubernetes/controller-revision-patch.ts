// StatefulSet/DaemonSet undo as kubectl does it: the ControllerRevision's `data` is itself a
// strategic merge patch (`spec.template` with `"$patch": "replace"`). Our record rides along as
// a merge of two annotations, which leaves every other annotation alone.
import {
  CHANGE_CAUSE_ANNOTATION,
  LAST_ROLLBACK_ANNOTATION,
  changeCause,
  formatLastRollback,
  type LastRollback,
} from '../../kube/last-rollback.js';

export function controllerRevisionPatch(
  data: Record<string, unknown>,
  record: LastRollback,
): Record<string, unknown> {
  const patch = structuredClone(data);
  const metadata = (patch.metadata ?? {}) as { annotations?: Record<string, string> };
  metadata.annotations = {
    ...metadata.annotations,
    [LAST_ROLLBACK_ANNOTATION]: formatLastRollback(record),
    [CHANGE_CAUSE_ANNOTATION]: changeCause(record),
  };
  patch.metadata = metadata;
  return patch;
}
