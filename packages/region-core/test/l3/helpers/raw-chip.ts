import type { MailboxFrame } from '@simpler/abi';
import type { TRANSPORTS } from './process-state';
import { RawChild } from './raw-child';
import { RawShmChild } from './raw-shm-child';

/** A raw chip child over either transport: frames in, frames out, no endpoint in between. */
export interface RawChip {
  readonly process: { readonly pid?: number };
  ready(): Promise<void>;
  request(build: (f: MailboxFrame) => void): Promise<MailboxFrame>;
  kill(): void;
}

/** One control request: `command` with ARG0.. taken from `args` (the rest 0, the name empty). */
export function control(chip: Pick<RawChip, 'request'>, command: number, ...args: (number | bigint)[]): Promise<MailboxFrame> {
  return chip.request((f) => {
    f.command = command;
    args.forEach((a, i) => (typeof a === 'bigint' ? f.setArgBig(i as 0 | 1 | 2 | 3, a) : f.setArg(i as 0 | 1 | 2 | 3, a)));
  });
}

/** Starts a raw chip child of `backendModule` (device 0) over `transport`. */
export function startRawChip(transport: (typeof TRANSPORTS)[number], backendModule: string, extra: readonly string[] = []): RawChip {
  return transport === 'shm' ? RawShmChild.start(backendModule, 0, { extra }) : RawChild.start(backendModule, 0, extra);
}
