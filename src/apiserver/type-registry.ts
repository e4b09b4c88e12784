import { apiVersionOf, type ResourceType } from '../api/resource.ts';

/**
 * The kinds the server serves right now: the built-ins plus the versions of
 * every established CustomResourceDefinition. Discovery, OpenAPI and routing
 * all read from here, so a CRD appears everywhere at once.
 */
export class TypeRegistry {
  readonly #builtins: ResourceType[];
  readonly #crds = new Map<string, ResourceType[]>();
  #all: ResourceType[] = [];
  #byPath = new Map<string, ResourceType>();
  #generation = 0;

  constructor(builtins: ResourceType[]) {
    this.#builtins = builtins;
    this.#rebuild();
  }

  /** Bumped on every change; caches (discovery, OpenAPI) key on it. */
  get generation(): number {
    return this.#generation;
  }

  all(): readonly ResourceType[] {
    return this.#all;
  }

  /** The type served at `/apis/<group>/<version>/<plural>` (`group` '' for core). */
  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.#byPath.get(`${group}/${version}/${plural}`);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.#all.find((t) => t.kind === kind && apiVersionOf(t) === apiVersion);
  }

  hasGroupVersion(group: string, version: string): boolean {
    return this.#all.some((t) => t.group === group && t.version === version);
  }

  /** Replaces the types contributed by one CRD (empty list removes them). */
  setCustom(crdName: string, types: ResourceType[]): void {
    if (types.length === 0) this.#crds.delete(crdName);
    else this.#crds.set(crdName, types);
    this.#rebuild();
  }

  /** Group → versions in preference order (first listed wins), groups in first-seen order. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.#all) {
      const versions = out.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      out.set(t.group, versions);
    }
    return out;
  }

  #rebuild(): void {
    this.#all = [...this.#builtins, ...[...this.#crds.values()].flat()];
    this.#byPath = new Map(this.#all.map((t) => [`${t.group}/${t.version}/${t.plural}`, t]));
    this.#generation++;
  }
}
