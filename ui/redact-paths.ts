/**
 * Replaces the project's absolute folder in every string of `value` with a project-relative
 * path, so no API response reveals where the project lives on disk (metadata and error
 * messages may carry file paths).
 *
 * @example
 * redactPaths({ file: '/home/ana/shop/landing/a.csv' }, ['/home/ana/shop']); // { file: 'landing/a.csv' }
 */
export function redactPaths<T>(value: T, dirs: readonly string[]): T {
  const roots = [...new Set(dirs.map((d) => d.replace(/[\\/]+$/, '')))].filter((d) => d.length > 1).sort((a, b) => b.length - a.length);
  if (roots.length === 0) return value;
  const redact = (text: string): string => {
    let out = text;
    for (const root of roots) out = out.replaceAll(`${root}/`, '').replaceAll(`${root}\\`, '').replaceAll(root, '.');
    return out;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}
