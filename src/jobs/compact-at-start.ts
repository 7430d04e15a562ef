// The compaction a start runs right after replay: the journal shrinks to the state it replayed.
// Neither a full disk nor a state above the threshold keeps the controller down; both are said.
import type { Logger } from 'pino';
import type { Journal } from './journal.js';

export async function compactAtStart<R>(
  journal: Journal<R>,
  records: Iterable<R>,
  logger: Logger,
): Promise<void> {
  try {
    await journal.compact(records);
  } catch (err) {
    // The journal as replayed is complete; the next compaction (once there is room) shrinks it.
    logger.warn(
      { err },
      'could not compact the journal at start (no room for the snapshot?): keeping it as it is',
    );
    return;
  }
  if (journal.lastSnapshotBytes > journal.compactAboveBytes) {
    logger.warn(
      {
        snapshotBytes: journal.lastSnapshotBytes,
        compactAboveBytes: journal.compactAboveBytes,
      },
      'the journal snapshot alone is above journal.compactAboveMiB: compaction now waits for twice the snapshot; lower journal.dedupRetentionHours or journal.maxJobs, or raise the threshold with the memory limit',
    );
  }
}
