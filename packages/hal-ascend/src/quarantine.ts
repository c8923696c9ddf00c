/** Device memory kept allocated because its host mapping could not be removed. */
export interface QuarantinedPair {
  /** The device pointer, also the key of the host registration. */
  readonly devicePointer: bigint;
  /** Its size. */
  readonly byteLength: number;
}

/** How much device memory is quarantined. */
export interface QuarantineReport {
  /** Quarantined allocations. */
  readonly count: number;
  /** Their total size in bytes. */
  readonly bytes: number;
}

// Process-wide, so the capability report (which has no backend) can show pairs whose retry at
// destroy failed too: those stay allocated and mapped for the life of the process.
const inProcess = new Set<QuarantinedPair>();

/** Counts pairs and their bytes. */
export function summarizeQuarantine(pairs: Iterable<QuarantinedPair>): QuarantineReport {
  let count = 0;
  let bytes = 0;
  for (const pair of pairs) {
    count++;
    bytes += pair.byteLength;
  }
  return { count, bytes };
}

/** Records a pair in the process-wide tally. */
export function enterQuarantine(pair: QuarantinedPair): void {
  inProcess.add(pair);
}

/** Removes a pair from the process-wide tally once it is unmapped. */
export function leaveQuarantine(pair: QuarantinedPair): void {
  inProcess.delete(pair);
}

/**
 * The device memory of every hal-ascend backend in this process that is kept because its host
 * mapping could not be removed (see docs/backends/ascend.md, "A failed unmap").
 */
export function ascendQuarantine(): QuarantineReport {
  return summarizeQuarantine(inProcess);
}
