// Validates Kubernetes manifests offline against the API's own OpenAPI v3 schemas (the ones published in
// the Kubernetes source, api/openapi-spec/v3, fetched as the k8s.io/kubernetes Go module), strictly:
// unknown fields are errors, as kubectl's server-side field validation would make them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';

export interface ManifestProblem {
  /** "Kind/name" of the document. */
  object: string;
  problems: string[];
}

interface OpenApiDoc {
  components: { schemas: Record<string, SchemaNode> };
}
type SchemaNode = Record<string, unknown> & {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: boolean | SchemaNode;
  allOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

/** The spec file holding a group/version: "v1" → api__v1, "apps/v1" → apis__apps__v1. */
export function specFileFor(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return group ? `apis__${group}__${version}_openapi.json` : `api__${version}_openapi.json`;
}

/** Objects with declared properties accept nothing else (unless the schema says unknown fields are kept). */
function closeObjects(node: SchemaNode): void {
  if (node.properties && node.additionalProperties === undefined && !node['x-kubernetes-preserve-unknown-fields']) {
    node.additionalProperties = false;
  }
  for (const child of Object.values(node.properties ?? {})) closeObjects(child);
  if (node.items) closeObjects(node.items);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') closeObjects(node.additionalProperties);
  for (const child of [...(node.allOf ?? []), ...(node.oneOf ?? [])]) closeObjects(child);
}

export class ManifestValidator {
  readonly #specDir: string;
  readonly #ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  readonly #loaded = new Set<string>();
  readonly #byKind = new Map<string, ValidateFunction>();

  /** `specDir`: the directory of `*_openapi.json` files (api/openapi-spec/v3 of a Kubernetes release). */
  constructor(specDir: string) {
    this.#specDir = specDir;
  }

  #validatorFor(apiVersion: string, kind: string): ValidateFunction | null {
    const key = `${apiVersion}/${kind}`;
    const cached = this.#byKind.get(key);
    if (cached) return cached;
    const file = specFileFor(apiVersion);
    const doc = JSON.parse(readFileSync(path.join(this.#specDir, file), 'utf8')) as OpenApiDoc;
    if (!this.#loaded.has(file)) {
      for (const schema of Object.values(doc.components.schemas)) closeObjects(schema);
      this.#ajv.addSchema(doc, file);
      this.#loaded.add(file);
    }
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const name = Object.entries(doc.components.schemas).find(([, s]) =>
      (s['x-kubernetes-group-version-kind'] ?? []).some((g) => g.group === group && g.version === version && g.kind === kind),
    )?.[0];
    if (!name) return null;
    const validate = this.#ajv.compile({ $ref: `${file}#/components/schemas/${name}` });
    this.#byKind.set(key, validate);
    return validate;
  }

  /** Problems per document; an empty list means every document is valid. */
  validate(documents: readonly Record<string, unknown>[]): ManifestProblem[] {
    const out: ManifestProblem[] = [];
    for (const doc of documents) {
      const apiVersion = String(doc.apiVersion ?? '');
      const kind = String(doc.kind ?? '');
      const object = `${kind || '?'}/${String((doc.metadata as { name?: string } | undefined)?.name ?? '?')}`;
      let validate: ValidateFunction | null;
      try {
        validate = this.#validatorFor(apiVersion, kind);
      } catch (error) {
        out.push({ object, problems: [`no schema for apiVersion '${apiVersion}' (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`] });
        continue;
      }
      if (!validate) {
        out.push({ object, problems: [`no kind '${kind}' in ${apiVersion}`] });
        continue;
      }
      if (!validate(doc)) {
        out.push({ object, problems: (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? `: '${String(e.params.additionalProperty)}'` : ''}`) });
      }
    }
    return out;
  }
}
