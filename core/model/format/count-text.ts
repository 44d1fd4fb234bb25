/**
 * A count with thousands separators, as `n.toLocaleString('en-US')` prints it (`1,234,567`),
 * without Intl for whole numbers: the first Intl formatter a process creates loads ICU's data
 * (~50 ms), which a command printing one count ("Nothing to do: the 21 selected assets…")
 * would otherwise pay. Other numbers go to `toLocaleString`.
 *
 * @example
 * countText(5122); // '5,122'
 */
export function countText(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = grouped.length; i < digits.length; i += 3) grouped += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${grouped}` : grouped;
}
