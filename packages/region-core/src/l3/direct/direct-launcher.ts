import { BackendError, LQ_DOORBELL, LQ_MAX_CAPACITY, LaunchQueueProducer, MAILBOX_ARG_COUNT, launchQueueBytes } from '@simpler/abi';
import type { SharedMapping } from '@simpler/shm';
import type { ChipEndpoint, ShareReply } from '../chip-endpoint';
import { requireShm, shmUnavailableReason } from '../shm-loader';
import { openChildObject } from './child-object';

/** The largest queue a child may describe (the layout's largest capacity). */
const MAX_QUEUE_BYTES = launchQueueBytes(LQ_MAX_CAPACITY);
const LAUNCHED: Promise<void> = Promise.resolve();

/** Where this chip's launches go: not known yet, being mapped, the mapped queue, or always the child. */
type LaunchPath = 'unknown' | 'mapping' | 'queue' | 'child';

/**
 * Launches for one L3 chip. Once the chip's backend shares its launch queue (docs/l3-protocol.md
 * section 11), a launch is written into that queue from this process and the device thread is
 * woken directly: no request to the chip child, no reply to wait for. Launches go through the
 * child (command 32) when the queue cannot be used for this one:
 * - before the queue is mapped (the first launch asks for it, once), or where it cannot be;
 * - for a kernel the queue's kernel table does not list (the child then answers `EINVAL` for an
 *   unknown name, as at level 2), or with more than the four arguments a request carries;
 * - while any request to the child is unanswered (a launch, or a proxied region's datacopy or
 *   notify: the launch must not overtake it), or the child holds launches outside the full ring;
 * - once the queue is closed (device lost or destroyed: the child answers with the reason).
 * So calls keep their order, as at level 2: the child puts a launch into the same queue before it
 * answers, and a queued launch is written only once every earlier request was answered.
 */
export class DirectLauncher {
  private path: LaunchPath = 'unknown';
  private queue: LaunchQueueProducer | undefined;
  private mapping: SharedMapping | undefined;
  /** The four argument words of command 32, reused: a kernel sees the same arguments on either path. */
  private readonly words: bigint[] = [0n, 0n, 0n, 0n];

  constructor(private readonly chip: ChipEndpoint) {
    chip.onLost(() => this.release());
  }

  /** Where launches go now (for tests and diagnostics). */
  get launchPath(): LaunchPath {
    return this.path;
  }

  launch(kernel: string, args: readonly bigint[]): Promise<void> {
    const queue = this.queue;
    if (queue !== undefined && this.chip.idle && args.length <= MAILBOX_ARG_COUNT) {
      const id = queue.kernelId(kernel);
      if (id >= 0) {
        // Command 32 always carries ARG0..ARG3, absent ones 0: so does a queued launch.
        const words = this.words;
        for (let i = 0; i < MAILBOX_ARG_COUNT; i++) words[i] = i < args.length ? args[i] : 0n;
        if (queue.push(id, words) === 'queued') return LAUNCHED;
      }
    }
    return this.launchThroughChild(kernel, args);
  }

  /** Unmaps the queue (shutdown, or the child was lost); later launches go to the child, which fails them. */
  release(): void {
    this.path = 'child';
    this.queue = undefined;
    const mapping = this.mapping;
    this.mapping = undefined;
    mapping?.unmap();
  }

  private async launchThroughChild(kernel: string, args: readonly bigint[]): Promise<void> {
    await this.chip.launch(kernel, args);
    if (this.path === 'unknown') void this.mapQueue();
  }

  /** Asks the child for its launch queue and maps it; any failure leaves launches with the child. */
  private async mapQueue(): Promise<void> {
    this.path = 'mapping';
    const pid = this.chip.pid;
    if (shmUnavailableReason() !== undefined || pid === undefined) {
      this.path = 'child';
      return;
    }
    let reply: ShareReply;
    try {
      reply = await this.chip.shareLaunchQueue();
    } catch {
      // ENOTSUP: the backend has no shareable queue; anything else, the child says again at its next launch.
      if (this.path === 'mapping') this.path = 'child';
      return;
    }
    if (this.path !== 'mapping') return; // lost or shut down meanwhile
    try {
      const { mapping, queue } = this.open(pid, reply);
      this.mapping = mapping;
      this.queue = queue;
      this.path = 'queue';
    } catch {
      // A queue that cannot be mapped or is not what it should be: the child keeps serving launches.
      this.path = 'child';
    }
  }

  private open(pid: number, reply: ShareReply): { mapping: SharedMapping; queue: LaunchQueueProducer } {
    const workerId = this.chip.workerId;
    const lie = (what: string): BackendError => new BackendError(`worker ${workerId}: the chip child's launch queue is unusable: ${what}`);
    if (reply.fd > 0x7fff_ffffn) throw lie(`descriptor ${reply.fd} is out of range`);
    if (reply.offset !== 0n) throw lie(`offset ${reply.offset} is not 0`);
    if (reply.length === 0n || reply.length > BigInt(MAX_QUEUE_BYTES)) throw lie(`length ${reply.length} is not in (0, ${MAX_QUEUE_BYTES}]`);
    const length = Number(reply.length);
    const shm = requireShm('the launch queue');
    const object = openChildObject(shm, pid, { fd: Number(reply.fd), inode: reply.inode, bytes: length, what: 'the launch queue' }, lie);
    let mapping: SharedMapping;
    try {
      mapping = object.map(length, 0, { backing: 'heap' });
    } finally {
      object.close();
    }
    try {
      const own = mapping;
      // The constructor checks the header (magic, version, slot size, capacity within the length).
      const queue = new LaunchQueueProducer(own.buffer, own.byteOffset, length, () => void own.futexWake(LQ_DOORBELL));
      return { mapping, queue };
    } catch (error) {
      mapping.unmap();
      throw error;
    }
  }
}
