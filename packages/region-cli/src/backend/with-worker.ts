/** What {@link withWorker} needs of a worker: a close that settles. */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Runs `body` with `worker`, then closes the worker whatever happened. The first failure is the
 * one reported: a close error after a failed body would only hide it.
 */
export async function withWorker<W extends Closable, T>(worker: W, body: (worker: W) => Promise<T>, after?: () => void): Promise<T> {
  let failed = false;
  try {
    return await body(worker);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    after?.();
    await worker.close().catch((error: unknown) => {
      if (!failed) throw error;
    });
  }
}
