import { koffi } from './koffi';

/** A koffi pointer as it comes out of an out-parameter: `null` for a null pointer. */
export type NativePointer = bigint | null;

/** True for a null pointer in any form koffi may return it. */
export function isNullPointer(pointer: unknown): boolean {
  return pointer === null || pointer === undefined || pointer === 0n;
}

/** The numeric address of a non-null koffi pointer. */
export function addressOf(pointer: unknown): bigint {
  return typeof pointer === 'bigint' ? pointer : koffi.address(pointer);
}

/**
 * A byte view of `length` bytes of native memory at `pointer`, without a copy. The caller must
 * have checked the pointer: koffi aborts the whole process on a view of a null pointer.
 */
export function hostView(pointer: bigint, length: number): Uint8Array {
  if (pointer === 0n) throw new RangeError('refusing to view a null pointer');
  return new Uint8Array(koffi.view(pointer, length));
}
