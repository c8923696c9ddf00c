// The one place this package reaches koffi. koffi ships as an ES module with a CommonJS entry;
// this package compiles to CommonJS, so it takes the CommonJS entry and borrows only the types.
import type * as KoffiModule from 'koffi' with { 'resolution-mode': 'import' };

/** The koffi module type (CommonJS entry). */
export type Koffi = typeof KoffiModule;

/** Loads koffi; throws what `require` throws when the native addon cannot load here. */
export function loadKoffi(): Koffi {
  return require('koffi') as Koffi;
}
