// The one place this package reaches koffi. koffi ships as an ES module with a CommonJS entry;
// this package compiles to CommonJS, so it takes the CommonJS entry and borrows only the types.
import type * as KoffiModule from 'koffi' with { 'resolution-mode': 'import' };

/** The koffi module (CommonJS entry). */
export const koffi = require('koffi') as typeof KoffiModule;

/** A library handle as koffi returns it. */
export type KoffiLibrary = KoffiModule.LibraryHandle;
