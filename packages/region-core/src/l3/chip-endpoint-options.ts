import type { L3Transport } from './shm-layout';
import type { ShmTuning } from './shm-parent-link';

/** Options of {@link ChipEndpoint.spawn}. */
export interface ChipEndpointOptions {
  /** Device id the child owns (also the worker id). */
  readonly deviceId: number;
  /** Backend module name or absolute path, resolved by the child from its working directory. */
  readonly backend: string;
  /** JSON-serialisable options for the backend factory. */
  readonly backendOptions?: Readonly<Record<string, unknown>>;
  /** Bound on the init handshake, in ms (default 30 000). */
  readonly initTimeoutMs?: number;
  /** Bound on any one reply beyond a wait's own timeout, in ms (default 60 000; 0 = none). */
  readonly requestTimeoutMs?: number;
  /** How long close waits for the child to exit before SIGKILL, in ms (default 2 000). */
  readonly shutdownGraceMs?: number;
  /** The child's stderr: inherited (default), forwarded through this process, or dropped. */
  readonly stderr?: 'inherit' | 'pipe' | 'ignore';
  /** Segment-name prefix (default `simpler-hdmr-<pid>-`). */
  readonly segmentPrefix?: string;
  /** Path of chip-child-main.js (default: the one built next to this module). */
  readonly childMain?: string;
  /** What carries frames and payloads (default `'shm'` where shared memory is available, else `'pipe'`). */
  readonly transport?: L3Transport;
  /** Spin budgets and chunk size of the shared-memory transport (defaults in `shm-layout`). */
  readonly shmTuning?: Partial<ShmTuning>;
}
