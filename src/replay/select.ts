import { UserError } from '../errors.js';
import { isUnreadable, type InputItem, type VerifyRequest } from '../verify/types.js';

export interface ReplaySelection {
  /** Capture ids or unique prefixes, replayed in this order. */
  ids: readonly string[];
  /** The last N captures (after --event); ignored when ids are given. */
  last: number;
  /** Canonical event name. */
  event?: string;
}

export interface SelectedCaptures {
  requests: VerifyRequest[];
  /** Lines that could not be read, refused captures, non-POST requests: never replayed. */
  unusable: number;
}

/** The event a capture names: as recorded, else read from its body. */
export function eventOf(request: VerifyRequest): string | undefined {
  if (request.event !== undefined) return request.event;
  try {
    const text = typeof request.body === 'string' ? request.body : request.body.toString('utf8');
    const event = (JSON.parse(text) as { event?: unknown } | null)?.event;
    return typeof event === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Picks the captures to replay while streaming the file: by id (or unique id prefix),
 * else the last N; only the picked ones are kept in memory.
 */
export async function selectCaptures(
  batches: AsyncIterable<Iterable<InputItem>>,
  selection: ReplaySelection,
  fileName: string,
): Promise<SelectedCaptures> {
  const byId = new Map<string, VerifyRequest[]>(selection.ids.map((id) => [id, []]));
  const recent: VerifyRequest[] = [];
  let unusable = 0;
  for await (const items of batches) {
    for (const item of items) {
      // FrontEngine only POSTs: anything else in a capture or HAR file is not a webhook.
      if (isUnreadable(item) || item.rejected !== undefined || (item.method !== undefined && item.method !== 'POST')) {
        unusable++;
        continue;
      }
      if (selection.event !== undefined && eventOf(item) !== selection.event) continue;
      if (selection.ids.length > 0) {
        for (const [id, matches] of byId) if (item.id !== undefined && item.id.startsWith(id)) matches.push(item);
        continue;
      }
      recent.push(item);
      // Trimmed in bulk: shift() per line would make --last N cost N per line.
      if (recent.length > selection.last * 2 + 64) recent.splice(0, recent.length - selection.last);
    }
  }
  if (selection.ids.length === 0) return { requests: recent.slice(-selection.last), unusable };
  const requests: VerifyRequest[] = [];
  for (const [id, matches] of byId) {
    const exact = matches.filter((m) => m.id === id);
    const chosen = exact.length === 1 ? exact : matches;
    if (chosen.length === 0)
      throw new UserError(`No capture "${id}" in ${fileName}${selection.event ? ` (with --event ${selection.event})` : ''}`);
    if (chosen.length > 1) throw new UserError(`"${id}" matches ${chosen.length} captures in ${fileName}: give more of the id`);
    requests.push(chosen[0] as VerifyRequest);
  }
  return { requests, unusable };
}
