import type { Ajv2020, AnySchema } from 'ajv/dist/2020.js';

/** RFC 3339's date-time, the `date-time` format of JSON Schema. */
export const RFC3339_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export interface AjvChoice {
  /** Compiling the catalog at build time: strict about the schemas, ES module source code. */
  standalone: boolean;
  schemas?: AnySchema[];
}

/** A property name an object inherits from Object.prototype (`constructor`, `toString`). */
function inheritedName(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false;
  const properties = (schema as { properties?: object }).properties;
  if (properties && Object.keys(properties).some((key) => key in Object.prototype)) return true;
  return Object.values(schema).some(inheritedName);
}

/**
 * The one Ajv set-up, for the build (scripts/build-schemas.mjs) and for schemas compiled at
 * run time. Ajv (draft 2020-12, the catalog's `$schema`) is required here, on first use:
 * commands that never validate a schema of their own never load it.
 */
export function newAjv({ standalone, schemas = [] }: AjvChoice): Ajv2020 {
  // Asked for here, not imported: loading node:module starts Node's ES module loader,
  // which the start-up rules keep out of every command that does not need it.
  const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);
  const { Ajv2020: Ajv } = require('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 };
  return new Ajv({
    schemas,
    // Every violation, not only the first: verify and generate report them all.
    allErrors: true,
    allowUnionTypes: true,
    // `required` reads `data.key === undefined`, which an inherited name never is; ask
    // hasOwnProperty only when a catalog schema has such a name (it costs verify on every
    // key), and always for a schema compiled at run time, whose names are not known here.
    ownProperties: schemas.some(inheritedName) || !standalone,
    formats: { 'date-time': RFC3339_DATE_TIME },
    // The catalog must be exact; a user's schema may carry keywords Ajv does not know,
    // which JSON Schema says to ignore.
    strict: standalone,
    logger: standalone ? undefined : false,
    code: standalone ? { source: true, esm: true } : {},
  });
}
