/**
 * The stderr text of a runtime failure: `simpler-region: CODE: message` (code when the error has a
 * string `code`, as region errors and Node system errors do), plus the stack and cause with `verbose`.
 */
export function formatRuntimeError(error: unknown, verbose: boolean): string {
  const e = error as { code?: unknown; message?: unknown; stack?: unknown; cause?: unknown } | null;
  const message = e && typeof e.message === 'string' ? e.message : String(error);
  const code = e && typeof e.code === 'string' ? `${e.code}: ` : '';
  let text = `simpler-region: ${code}${message.replace(/\s*\n\s*/g, ' ')}\n`;
  if (verbose) {
    if (e && typeof e.stack === 'string') text += `${e.stack}\n`;
    if (e && e.cause !== undefined) text += `caused by: ${formatRuntimeError(e.cause, true)}`;
  }
  return text;
}
