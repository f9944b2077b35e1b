import { UserError, errorMessage } from '../errors.js';
import { resolveEventName } from '../events/names.js';
import type { EventName } from '../events/types.js';
import { isFieldPath, isJsonObject, nonFiniteNumberAt, type FieldOverride } from '../events/overrides.js';
import { parseDurationMs } from '../util/units.js';
import { referencesIn } from './references.js';
import { stepLabel, type Story, type StoryStep } from './story.js';

/** More repeats than this is load testing: `send --count` does that. */
export const MAX_REPEAT = 1000;
/** The longest `after` a step may wait: a story is a drill, not a scheduler. */
export const MAX_AFTER_MS = 3_600_000;

/** A story is a drill of a few events; more is load testing (`send --count`). */
export const MAX_STORY_EVENTS = 10_000;
/**
 * Values a story document may hold, counted as parsed: YAML aliases share one value
 * many times (the "billion laughs" file), which every later walk would expand.
 */
export const MAX_DOCUMENT_NODES = 100_000;

const STEP_KEYS = new Set(['name', 'event', 'set', 'data', 'repeat', 'after']);
const STORY_KEYS = new Set(['description', 'steps']);
const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

type Json = Record<string, unknown>;

/** A story file's contents (JSON or YAML, already parsed) → a Story, or one UserError naming the step and the field. */
export function parseStory(document: unknown, source: string): Story {
  const fail = (where: string, why: string): never => {
    throw new UserError(`Invalid story ${source}: ${where}${why}`);
  };
  if (!isJsonObject(document)) return fail('', 'expected an object with "steps"');
  if (!fewerNodesThan(document, MAX_DOCUMENT_NODES))
    fail('', `too large: more than ${MAX_DOCUMENT_NODES} values (YAML aliases count each time they are used)`);
  const unknownKey = Object.keys(document).find((key) => !STORY_KEYS.has(key));
  if (unknownKey !== undefined) fail('', `unknown key ${JSON.stringify(unknownKey)} (a story has "steps" and an optional "description")`);
  if (!Array.isArray(document.steps) || document.steps.length === 0) fail('', '"steps" must be a non-empty list');
  const raw = document.steps as unknown[];
  const named = raw.map((s) => (isJsonObject(s) && typeof s.name === 'string' ? s.name : undefined));
  const labels = raw.map((s, i) => stepLabel(i, named[i], isJsonObject(s) && typeof s.event === 'string' ? s.event : undefined));
  const steps = raw.map((step, index) => parseStep(step, index, named, (why) => fail(`${labels[index]}: `, why)));
  checkReferences(steps, named, (index, why) => fail(`${labels[index]}: `, why));
  const events = steps.reduce((sum, step) => sum + step.repeat, 0);
  if (events > MAX_STORY_EVENTS) fail('', `${events} events: a story has at most ${MAX_STORY_EVENTS} (send --count is load mode)`);
  const description = typeof document.description === 'string' ? document.description : undefined;
  return { name: source, description, steps };
}

/** Whether walking `value` meets fewer than `budget` values; stops as soon as it does not. */
function fewerNodesThan(value: unknown, budget: number): boolean {
  let left = budget;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    // Counted when met, before they are walked: an alias used many times costs each time.
    const children = Object.values(node);
    left -= children.length;
    if (left < 0) return false;
    for (const child of children) stack.push(child);
  }
  return true;
}

function parseStep(raw: unknown, index: number, names: readonly (string | undefined)[], fail: (why: string) => never): StoryStep {
  if (!isJsonObject(raw)) return fail('expected an object with "event"');
  const unknownKey = Object.keys(raw).find((key) => !STEP_KEYS.has(key));
  if (unknownKey !== undefined)
    fail(`unknown key ${JSON.stringify(unknownKey)} (a step has ${[...STEP_KEYS].map((k) => `"${k}"`).join(', ')})`);
  const name = raw.name;
  if (name !== undefined) {
    if (typeof name !== 'string' || !STEP_NAME.test(name))
      fail(`"name" must be a word of letters, digits, _ and - (it is used as \${name.path})`);
    if (names.indexOf(name as string) !== index)
      fail(`"name" ${JSON.stringify(name)} is already the name of step ${names.indexOf(name as string) + 1}`);
  }
  if (typeof raw.event !== 'string') return fail('"event" is required (an event name, e.g. MessageSent)');
  let event: EventName;
  try {
    event = resolveEventName(raw.event);
  } catch (error) {
    return fail(`"event": ${errorMessage(error)}`);
  }
  return {
    name: name as string | undefined,
    event,
    set: parseSet(raw.set, fail),
    data: parseData(raw.data, fail),
    repeat: parseRepeat(raw.repeat, fail),
    afterMs: parseAfter(raw.after, fail),
  };
}

function parseSet(raw: unknown, fail: (why: string) => never): FieldOverride[] {
  if (raw === undefined) return [];
  if (!isJsonObject(raw)) return fail('"set" must be an object of "path.to.field": value');
  return Object.entries(raw).map(([path, value]) => {
    const keys = path.split('.');
    if (!isFieldPath(keys)) fail(`set ${JSON.stringify(path)}: the path must be dot-separated field names`);
    const overflow = nonFiniteNumberAt(value, path);
    if (overflow !== undefined) fail(`set ${JSON.stringify(path)}: the number at ${overflow} is too large for JSON`);
    return { path: keys, value };
  });
}

function parseData(raw: unknown, fail: (why: string) => never): Json | undefined {
  if (raw === undefined) return undefined;
  if (!isJsonObject(raw)) return fail('"data" must be an object (deep-merged over the sample)');
  const overflow = nonFiniteNumberAt(raw, 'data');
  if (overflow !== undefined) fail(`the number at ${overflow} is too large for JSON`);
  return raw;
}

function parseRepeat(raw: unknown, fail: (why: string) => never): number {
  if (raw === undefined) return 1;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 1 || raw > MAX_REPEAT)
    fail(`"repeat" must be a whole number from 1 to ${MAX_REPEAT}`);
  return raw as number;
}

function parseAfter(raw: unknown, fail: (why: string) => never): number {
  if (raw === undefined) return 0;
  if (typeof raw !== 'string' && typeof raw !== 'number') return fail('"after" must be a duration such as "2s" or "500ms"');
  let ms = 0;
  try {
    ms = parseDurationMs(raw, '"after"');
  } catch (error) {
    fail(errorMessage(error));
  }
  if (ms > MAX_AFTER_MS) fail(`"after" is at most 1h`);
  return ms;
}

/**
 * Every reference must name an earlier step: a later one is a forward reference, and
 * a pair of steps that refer to each other is a cycle, which no order can satisfy.
 */
function checkReferences(steps: StoryStep[], names: readonly (string | undefined)[], fail: (index: number, why: string) => never): void {
  const refersTo = steps.map(
    (step) => new Set([...step.set.flatMap((o) => referencesIn(o.value)), ...referencesIn(step.data)].map((r) => r.step)),
  );
  steps.forEach((step, index) => {
    const fields: Array<[string, unknown]> = [...step.set.map((o): [string, unknown] => [o.path.join('.'), o.value]), ['data', step.data]];
    for (const [field, value] of fields) {
      for (const reference of referencesIn(value)) {
        const where = `${field === 'data' ? '"data"' : `set ${JSON.stringify(field)}`}: ${reference.text}`;
        const target = names.indexOf(reference.step);
        if (reference.step === '' || !STEP_NAME.test(reference.step))
          fail(index, `${where}: expected \${step.path}, e.g. \${sent.payload.message.id}`);
        if (target === -1) fail(index, `${where}: no step is named ${JSON.stringify(reference.step)}`);
        if (target === index) fail(index, `${where}: a step cannot refer to itself (a cycle)`);
        if (target > index) {
          const back = refersTo[target]?.has(names[index] ?? '\u0000');
          fail(
            index,
            back
              ? `${where}: a cycle (step ${target + 1} refers back to this step)`
              : `${where}: step ${target + 1} comes later; a step can only refer to earlier steps`,
          );
        }
      }
    }
  });
}
