/**
 * Durations from 0 to 3 days in 0.7 s steps whose text does not match `shape`, has a fraction,
 * or shows a unit at its carry value ("60 s", "60m", "24 h"): the property both duration
 * formatters (dashboard and CLI) must keep.
 */
export function durationsOutOfShape(format: (seconds: number) => string, shape: RegExp): string[] {
  const wrong: string[] = [];
  for (let s = 0; s < 3 * 86_400; s += 0.7) {
    const text = format(s);
    if (/(^|\D)(60 ?(s|m|min)|24 ?h)\b|\./.test(text) || !shape.test(text)) wrong.push(`${s}: ${text}`);
  }
  return wrong;
}
