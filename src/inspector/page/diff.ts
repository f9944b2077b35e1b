/** One line of a diff: kept (' '), only on the left ('-') or only on the right ('+'). */
export interface DiffLine {
  kind: ' ' | '-' | '+';
  text: string;
}

/** Past this many lines a side, the diff compares line by line at the same index (no LCS table). */
const LCS_LIMIT = 2000;

/** A line diff by longest common subsequence: what changed between two bodies or header lists. */
export function lineDiff(left: string[], right: string[]): DiffLine[] {
  if (left.length > LCS_LIMIT || right.length > LCS_LIMIT) return indexDiff(left, right);
  const rows = left.length + 1;
  const cols = right.length + 1;
  const table = new Uint32Array(rows * cols);
  for (let i = left.length - 1; i >= 0; i--) {
    for (let j = right.length - 1; j >= 0; j--) {
      table[i * cols + j] =
        left[i] === right[j]
          ? (table[(i + 1) * cols + j + 1] as number) + 1
          : Math.max(table[(i + 1) * cols + j] as number, table[i * cols + j + 1] as number);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    if (left[i] === right[j]) {
      out.push({ kind: ' ', text: left[i] as string });
      i++;
      j++;
    } else if ((table[(i + 1) * cols + j] as number) >= (table[i * cols + j + 1] as number)) {
      out.push({ kind: '-', text: left[i++] as string });
    } else {
      out.push({ kind: '+', text: right[j++] as string });
    }
  }
  while (i < left.length) out.push({ kind: '-', text: left[i++] as string });
  while (j < right.length) out.push({ kind: '+', text: right[j++] as string });
  return out;
}

function indexDiff(left: string[], right: string[]): DiffLine[] {
  const out: DiffLine[] = [];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const a = left[i];
    const b = right[i];
    if (a === b) out.push({ kind: ' ', text: a as string });
    else {
      if (a !== undefined) out.push({ kind: '-', text: a });
      if (b !== undefined) out.push({ kind: '+', text: b });
    }
  }
  return out;
}
