import { RegionRecord } from './region-record';
import { randomHandleToken } from './handle-tokens';

/**
 * The open regions of one device context, keyed by random handle token. A token is never
 * handed out twice while it is registered; a closed token is simply absent, so stale handles
 * fail the lookup like forged ones.
 */
export class RegionRegistry {
  private readonly regions = new Map<number, RegionRecord>();

  /** Number of open regions. */
  get size(): number {
    return this.regions.size;
  }

  /** A fresh token that no open region uses. */
  newToken(): number {
    for (;;) {
      const token = randomHandleToken();
      if (!this.regions.has(token)) return token;
    }
  }

  /** Registers a record under its token. */
  add(record: RegionRecord): void {
    this.regions.set(record.token, record);
  }

  /** The record for a token, or undefined. */
  get(token: number): RegionRecord | undefined {
    return this.regions.get(token);
  }

  /** Unregisters a token; returns the record it held. */
  remove(token: number): RegionRecord | undefined {
    const record = this.regions.get(token);
    if (record) this.regions.delete(token);
    return record;
  }

  /** Removes and returns every record (used by destroy). */
  drain(): RegionRecord[] {
    const all = [...this.regions.values()];
    this.regions.clear();
    return all;
  }
}
