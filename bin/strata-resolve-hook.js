// Module resolution hook: `import { asset } from 'strata'` resolves to this checkout's public
// API from any project folder, so a project needs no install of its own.
let target;

export function initialize(data) {
  target = data.target;
}

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'strata') return { url: target, shortCircuit: true };
  return nextResolve(specifier, context);
}
