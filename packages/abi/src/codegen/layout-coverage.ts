import { StructLayout, elementSize } from '../layout/struct-layout';

/**
 * Throws unless the fields of `layout` tile it exactly: in offset order, no gap, no overlap,
 * each scalar naturally aligned, sizes consistent with type and count. A gap would become
 * implicit compiler padding in the generated header, which the ABI forbids.
 */
export function assertLayoutCovered(layout: StructLayout): void {
  let at = 0;
  for (const f of layout.fields) {
    const unit = elementSize(f.type);
    const problem =
      f.offset !== at ? `starts at ${f.offset}, expected ${at}` :
      f.offset % unit !== 0 ? `is not ${unit}-byte aligned` :
      f.count !== undefined && f.size !== f.count * unit ? `size ${f.size} != ${f.count} x ${unit}` :
      f.count === undefined && unit > 1 && f.size !== unit ? `size ${f.size} != ${unit}` :
      f.size <= 0 || f.size % unit !== 0 ? `has bad size ${f.size}` : '';
    if (problem) throw new Error(`layout ${layout.name}: field ${f.name} ${problem}`);
    at += f.size;
  }
  if (at !== layout.size) throw new Error(`layout ${layout.name}: fields cover ${at} bytes, struct is ${layout.size}`);
  if (layout.size % layout.align !== 0) throw new Error(`layout ${layout.name}: size ${layout.size} is not a multiple of align ${layout.align}`);
}
