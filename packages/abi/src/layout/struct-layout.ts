/** Scalar and byte-array field types used by the layouts. */
export type FieldType = 'u16' | 'u32' | 'i32' | 'u64' | 'bytes' | 'cstring';

/** One field of a binary layout. */
export interface FieldSpec {
  /** Field name, as in the C header (snake_case). */
  readonly name: string;
  /** Byte offset from the start of the struct. */
  readonly offset: number;
  /** Size in bytes (for arrays, of the whole array). */
  readonly size: number;
  /** Element type. */
  readonly type: FieldType;
  /** Element count for arrays of scalars; absent for single values. */
  readonly count?: number;
  /** True for padding/reserved fields: always written as zero. */
  readonly reserved?: boolean;
  /** One-line description for generated docs and headers. */
  readonly doc: string;
}

/** A fixed-size little-endian struct. */
export interface StructLayout {
  /** Name used in TypeScript and JSON. */
  readonly name: string;
  /** Name of the C typedef in the generated header. */
  readonly cName: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Required alignment in bytes. */
  readonly align: number;
  /** Fields in offset order, covering every byte that has meaning. */
  readonly fields: readonly FieldSpec[];
}

const SCALAR_SIZE: Record<string, number> = { u16: 2, u32: 4, i32: 4, u64: 8 };

/** Size of one element of a field type (1 for byte arrays and strings). */
export function elementSize(type: FieldType): number {
  return SCALAR_SIZE[type] ?? 1;
}

/** Finds a field by name; throws if the layout has none (a programming error). */
export function fieldOf(layout: StructLayout, name: string): FieldSpec {
  const f = layout.fields.find((x) => x.name === name);
  if (!f) throw new Error(`layout ${layout.name} has no field ${name}`);
  return f;
}
