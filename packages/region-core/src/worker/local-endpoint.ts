import { DeviceContext } from '../context/device-context';
import { InvalidArgumentError } from '@simpler/abi';
import { Endpoint, EndpointInfo, RegionAccess } from './endpoint';

/**
 * The L2 endpoint: the device context lives in this process, so every request is a direct,
 * synchronous call; only waits and synchronize actually suspend.
 */
export class LocalEndpoint implements Endpoint {
  /** Worker id (the device id of the context's backend). */
  readonly workerId: number;
  /** The device context this endpoint drives. */
  readonly context: DeviceContext;

  constructor(workerId: number, context: DeviceContext) {
    this.workerId = workerId;
    this.context = context;
  }

  /** Platform of the context's backend. */
  get platform(): string {
    return this.context.backend.platform;
  }

  async open(dataBytes: number, signalCount: number, flags: number, access?: RegionAccess): Promise<number> {
    if (access === 'proxied') throw new InvalidArgumentError("access 'proxied' needs a level-3 worker: a level-2 region lives in this process, so its calls are always direct");
    return this.context.open(dataBytes, signalCount, flags);
  }

  /** Every L2 region is direct: its memory is mapped in this process. */
  accessOf(): RegionAccess {
    return 'direct';
  }

  async close(handle: number): Promise<void> {
    this.context.close(handle);
  }

  async info(handle: number): Promise<EndpointInfo> {
    return this.context.publicInfo(handle);
  }

  async h2region(handle: number, offset: number, src: Uint8Array): Promise<void> {
    this.context.datacopyH2Region(handle, offset, src);
  }

  async region2h(handle: number, offset: number, nbytes: number): Promise<Uint8Array> {
    return this.context.datacopyRegion2H(handle, offset, nbytes);
  }

  async region2hInto(handle: number, offset: number, dst: Uint8Array): Promise<void> {
    this.context.datacopyRegion2HInto(handle, offset, dst);
  }

  async notify(handle: number, signalId: number, value: number): Promise<void> {
    this.context.notify(handle, signalId, value);
  }

  wait(handle: number, signalId: number, target: number, timeoutUs: number): Promise<void> {
    return this.context.waitAsync(handle, signalId, target, timeoutUs);
  }

  async launch(kernel: string, args: readonly bigint[]): Promise<void> {
    this.context.launch(kernel, args);
  }

  synchronize(): Promise<void> {
    return this.context.synchronize();
  }

  shutdown(): Promise<void> {
    return this.context.destroy();
  }
}
