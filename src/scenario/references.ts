/**
 * `${step.path}` references in a story's values, as Stripe fixtures' `${name:path}`:
 * `${sent.payload.message.id}` is the `payload.message.id` of the earlier step named
 * `sent`. A value that is exactly one reference takes the referenced value with its type
 * (a number stays a number); a reference inside longer text is spliced in as text.
 */

const REFERENCE = /\$\{([^}]*)\}/g;

export interface Reference {
  /** As written, `${sent.payload.message.id}`. */
  text: string;
  step: string;
  /** The field path inside that step's body; empty for the whole body. */
  path: string[];
}

function parse(text: string, inner: string): Reference {
  const [step = '', ...path] = inner.trim().split('.');
  return { text, step, path };
}

/** Every reference in a value (strings, and strings nested in objects and arrays). */
export function referencesIn(value: unknown): Reference[] {
  if (typeof value === 'string') return [...value.matchAll(REFERENCE)].map((m) => parse(m[0], m[1] as string));
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(referencesIn);
  return [];
}

const MISSING = Symbol('missing');

/** The field at `path` of a parsed body, or MISSING. Numeric keys index arrays. */
function fieldAt(body: unknown, path: readonly string[]): unknown {
  let node = body;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, key)) return MISSING;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A referenced value that cannot be looked up: the caller names the step and field. */
export class UnresolvedReference extends Error {
  constructor(readonly reference: Reference) {
    super(`${reference.text}: ${reference.step} has no field ${reference.path.join('.') || '(empty path)'}`);
  }
}

/**
 * `value` with each reference replaced; `bodyOf` gives an earlier step's parsed body.
 * Throws UnresolvedReference when a referenced field does not exist.
 */
export function resolveReferences(value: unknown, bodyOf: (step: string) => unknown): unknown {
  if (typeof value === 'string') {
    const lookup = (reference: Reference): unknown => {
      const found = fieldAt(bodyOf(reference.step), reference.path);
      if (found === MISSING) throw new UnresolvedReference(reference);
      return found;
    };
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole) return lookup(parse(value, whole[1] as string));
    return value.replace(REFERENCE, (text, inner: string) => {
      const found = lookup(parse(text, inner));
      return typeof found === 'string' ? found : JSON.stringify(found);
    });
  }
  if (Array.isArray(value)) return value.map((item) => resolveReferences(item, bodyOf));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveReferences(item, bodyOf)]));
  }
  return value;
}
