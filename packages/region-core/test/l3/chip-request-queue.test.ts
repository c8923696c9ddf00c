import { BackendError, ERRNO, InvalidArgumentError, MailboxCommand, MailboxFrame, MailboxState, OutOfMemoryError } from '@simpler/abi';
import { now } from '../../src/context/wait-strategy';
import { ChipRequestHost, ChipRequestQueue } from '../../src/l3/chip-request-queue';
import { SlicedWait, WAIT_SLICE_US } from '../../src/l3/sliced-wait';

// The queue on its own, driven through its host seam the way ChipEndpoint drives it; the suites
// with real chip children (wait-lifecycle, misbehaving-child, chip-endpoint) cover it end to end.

interface Harness {
  readonly queue: ChipRequestQueue;
  /** Copies of every frame the queue sent, in order. */
  readonly sent: MailboxFrame[];
  readonly failures: Error[];
  readonly referenced: boolean[];
  giveBacks: number;
}

function harness(budgetMs = 60_000): Harness {
  const h = { sent: [] as MailboxFrame[], failures: [] as Error[], referenced: [] as boolean[], giveBacks: 0 } as Harness & { queue: ChipRequestQueue };
  const host: ChipRequestHost = {
    workerId: 7,
    pid: 4242,
    send: (frame) => h.sent.push(new MailboxFrame(frame.slice())),
    giveBack: () => h.giveBacks++,
    fail: (error) => {
      h.failures.push(error);
      h.queue.fail(error);
    },
    setReferenced: (on) => h.referenced.push(on),
  };
  (h as { queue: ChipRequestQueue }).queue = new ChipRequestQueue(host, budgetMs);
  return h;
}

/** A CONTROL_DONE reply to `command`. */
function reply(command: number, error = 0, result = 0, message = ''): MailboxFrame {
  const f = new MailboxFrame();
  f.state = MailboxState.CONTROL_DONE;
  f.command = command;
  f.error = error;
  f.result = result;
  f.errorMessage = message;
  return f;
}

const notify = (q: ChipRequestQueue, value: number): Promise<void> =>
  q.request(
    'notify',
    (f) => {
      f.command = MailboxCommand.NOTIFY;
      f.setArg(2, value);
    },
    () => undefined,
  );

function slicedWait(q: ChipRequestQueue, handle: number, timeoutUs: number): Promise<void> {
  const w = new SlicedWait(handle, 0, 1, timeoutUs);
  return q.request(
    'wait',
    (f) => {
      f.command = MailboxCommand.WAIT;
      f.setArg(0, handle);
      f.setArg(3, w.nextTimeoutUs(now()));
    },
    () => undefined,
    false,
    w,
  );
}

describe('ChipRequestQueue', () => {
  it('keeps one request in flight, in FIFO order, and holds the event loop only meanwhile', async () => {
    const { queue, sent, referenced } = harness();
    const a = notify(queue, 1);
    const b = notify(queue, 2);
    expect(sent.map((f) => f.arg(2))).toEqual([1]);
    expect(sent[0].state).toBe(MailboxState.CONTROL_REQUEST);
    queue.receive(reply(MailboxCommand.NOTIFY));
    await expect(a).resolves.toBeUndefined();
    expect(sent.map((f) => f.arg(2))).toEqual([1, 2]);
    queue.receive(reply(MailboxCommand.NOTIFY));
    await expect(b).resolves.toBeUndefined();
    expect(referenced).toEqual([true, true, false]);
  });

  it('fails the host on a reply to another command or with nothing in flight', async () => {
    const { queue, failures } = harness();
    queue.receive(reply(MailboxCommand.NOTIFY));
    expect(failures[0]).toBeInstanceOf(BackendError);
    expect(failures[0].message).toBe('worker 7: chip child sent an unexpected frame (state 5)');

    const second = harness();
    const p = notify(second.queue, 1);
    second.queue.receive(reply(MailboxCommand.WAIT));
    await expect(p).rejects.toThrow(`worker 7: chip child answered command ${MailboxCommand.WAIT} to request ${MailboxCommand.NOTIFY}`);
    await expect(notify(second.queue, 2)).rejects.toBe(second.failures[0]);
  });

  it('turns an error reply into its typed error and a local failure into EIO, giving a transfer its space back', async () => {
    const h = harness();
    const refused = notify(h.queue, 1);
    h.queue.receive(reply(MailboxCommand.NOTIFY, ERRNO.ENOMEM, 0, 'no room'));
    await expect(refused).rejects.toBeInstanceOf(OutOfMemoryError);
    const broken = h.queue.request(
      'h2region',
      (f) => {
        f.command = MailboxCommand.DATACOPY_H2REGION;
      },
      () => {
        throw new Error('segment gone');
      },
      true,
    );
    h.queue.receive(reply(MailboxCommand.DATACOPY_H2REGION));
    await expect(broken).rejects.toBeInstanceOf(BackendError);
    await expect(broken).rejects.toThrow('worker 7: h2region failed in the parent: segment gone');
    expect(h.giveBacks).toBe(1);
  });

  it('sends a long wait in slices and runs what was queued meanwhile between them', async () => {
    const { queue, sent } = harness();
    const wait = slicedWait(queue, 9, 60_000_000);
    const n = notify(queue, 5);
    expect(sent[0].arg(3)).toBe(WAIT_SLICE_US);
    queue.receive(reply(MailboxCommand.WAIT, ERRNO.EAGAIN, 0));
    expect(sent[1].command).toBe(MailboxCommand.NOTIFY);
    queue.receive(reply(MailboxCommand.NOTIFY));
    await n;
    expect(sent[2].command).toBe(MailboxCommand.WAIT);
    queue.beginRegionClose(9);
    expect(queue.regionClosing(9)).toBe(true);
    queue.receive(reply(MailboxCommand.WAIT, ERRNO.EAGAIN, 0));
    await expect(wait).rejects.toThrow(new InvalidArgumentError('region handle 9 was closed while a wait on signal slot 0 was pending'));
    queue.endRegionClose(9);
    expect(queue.regionClosing(9)).toBe(false);
  });

  it('on close fails what is pending with EINVAL and refuses later requests', async () => {
    const { queue } = harness();
    const inFlight = notify(queue, 1);
    const wait = slicedWait(queue, 3, 60_000_000);
    queue.close();
    await expect(inFlight).rejects.toThrow(new InvalidArgumentError('worker 7 was closed while its notify request was pending'));
    await expect(wait).rejects.toThrow('region handle 3 was closed while a wait on signal slot 0 was pending');
    await expect(notify(queue, 2)).rejects.toThrow(new InvalidArgumentError('worker 7 is closed'));
  });

  it('fails the host when a reply is overdue', async () => {
    const { queue, failures } = harness(1);
    queue.watch();
    const p = notify(queue, 1);
    await expect(p).rejects.toThrow('worker 7: chip child (pid 4242) did not answer notify in time');
    expect(failures).toHaveLength(1);
  });
});
