/**
 * dbt's `return(value)` in nunjucks: `return()` throws, and every compiled macro catches it and
 * returns the value instead of its text (as dbt's macros do). nunjucks has no such statement, so
 * its compiler is made to wrap each macro's body in a `try` (process-wide, like the rest of
 * Strata's nunjucks fills; see dbt-jinja.ts). The same `catch` notes the line of an error from a
 * macro file, which nunjucks reports under the model's name.
 */

/** What `return(value)` throws: the macro running it catches it and returns `value` (as dbt's macros do). */
class MacroReturn extends Error {
  constructor(readonly value: unknown) {
    super(RETURN_OUTSIDE_MACRO);
  }
}

/** The message of a `return()` no macro caught. */
export const RETURN_OUTSIDE_MACRO = 'return() is only valid inside a macro';

/** dbt's `return(value)`: ends the macro it runs in, which returns `value` instead of its text. */
export function macroReturn(value: unknown): never {
  throw new MacroReturn(value);
}

/** The line nunjucks' compiler emits at the start and at the end of a compiled macro's function. */
const MACRO_START = 'var callerFrame = frame;';
const MACRO_END = 'return new runtime.SafeString(';

/**
 * Makes every compiled macro catch what `return()` throws: the macro's body is wrapped in a
 * `try` whose `catch` restores the caller's frame (as the macro's normal end does) and returns
 * the value; any other error goes on, its line noted when it comes from a macro file (nunjucks
 * names it under the model's name: see {@link lastMacroFailureLine}).
 */
export function installMacroReturn(engine: object, runtime: object, macrosTemplate: string): void {
  type Compiler = { templateName?: string; _emitLine(code: string): void };
  const prototype = (engine as { compiler: { Compiler: { prototype: Compiler } } }).compiler.Compiler.prototype;
  const emitLine = prototype._emitLine;
  prototype._emitLine = function emitMacroLine(this: Compiler, code: string): void {
    let line = code;
    if (code === MACRO_START) line = `${code} try {`;
    else if (code.startsWith(MACRO_END))
      line = `${code} } catch (e) { frame = callerFrame; return runtime.macroReturned(e, ${JSON.stringify(this.templateName ?? null)}); }`;
    emitLine.call(this, line);
  };
  (runtime as { macroReturned?: unknown }).macroReturned = (error: unknown, template: string | null): unknown => {
    if (error instanceof MacroReturn) return error.value;
    const line = (error as { lineno?: unknown } | null)?.lineno;
    // The innermost macro catches first.
    if (template === macrosTemplate && failureLine === undefined && typeof line === 'number') failureLine = line;
    throw error;
  };
}

/** The line (in the macros template) of the rendering's failure inside a macro file, when nunjucks knew it. */
let failureLine: number | undefined;

/** The line in the macros template (the macro files one after the other) the rendering failed at inside a macro, if it did. */
export function lastMacroFailureLine(): number | undefined {
  return failureLine;
}

/** Forgets the failure line, before a rendering. */
export function clearMacroFailure(): void {
  failureLine = undefined;
}
