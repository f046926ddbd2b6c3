/**
 * The configured stores of a connection: name resolution and one backend per store, opened on
 * first use. This is what codecs receive as {@link StoreAccess}.
 *
 * @example
 * ```ts
 * import { Stores } from "./open.ts";
 * const stores = new Stores(
 *   { default: "main", main: { protocol: "file", location: "store" } },
 *   { projectRoot: "/home/me/project" },
 * );
 * const main = await stores.backend(null); // the default store, /home/me/project/store
 * await stores.close();
 * ```
 *
 * @module
 */
import { StoreError } from "../lib/errors.ts";
import type { StoreAccess } from "../codecs/registry.ts";
import type { StoreBackend, StoreSpec } from "./backend.ts";
import { FileStore } from "./file_store.ts";
import { S3Store, type S3StoreOptions } from "./s3_store.ts";
import { DEFAULT_KEYS, resolveStoreName, storeSpec } from "./spec.ts";

/** Options of {@link Stores}. */
export interface StoresOptions {
  /** Folder relative file `location`s are resolved against (the folder of `datajoint.json`). */
  projectRoot?: string;
  /** Tuning for S3 stores. */
  s3?: S3StoreOptions;
  /**
   * File stores whose folder is made when they are first opened instead of refused when missing
   * (the embedded default's own `.dj/store`: nothing to set up, and no folder until it is used).
   */
  createFolders?: string[];
}

/**
 * Store access for one configuration (`config.stores`). Specs are validated when a store is
 * first used, so a broken entry only fails the code that needs that store; a file store's folder
 * must exist by then (reference `Inaccessible local directory …`). Backends are cached per name;
 * a failed open is not cached, so creating the folder and retrying works.
 *
 * @example
 * ```ts
 * import { Stores } from "./open.ts";
 * const stores = new Stores({ default: "main", main: { protocol: "file", location: "/data" } });
 * console.log(stores.names(), stores.resolveName("")); // ["main"] main
 * ```
 */
export class Stores implements StoreAccess {
  readonly #config: Record<string, unknown>;
  readonly #options: StoresOptions;
  readonly #backends = new Map<string, Promise<StoreBackend>>();

  /** Wraps a `stores` configuration; nothing is validated or opened yet. */
  constructor(storesConfig: Record<string, unknown>, options: StoresOptions = {}) {
    this.#config = storesConfig;
    this.#options = options;
  }

  /** The configured store names (every key except `default` and `filepath_default`). */
  names(): string[] {
    return Object.keys(this.#config).filter((k) => !DEFAULT_KEYS.includes(k));
  }

  /** The concrete store a name means (`null`/`""` = the default; see `resolveStoreName`). */
  resolveName(name: string | null | undefined, options: { filepath?: boolean } = {}): string {
    return resolveStoreName(this.#config, name, options);
  }

  /** A store's validated spec, defaults applied and a file location made absolute. */
  spec(name: string | null | undefined, options: { filepath?: boolean } = {}): StoreSpec {
    return storeSpec(this.#config, this.resolveName(name, options), {
      projectRoot: this.#options.projectRoot,
    });
  }

  /** The backend of a store, opened on first use and cached. */
  backend(
    name: string | null | undefined,
    options: { filepath?: boolean } = {},
  ): Promise<StoreBackend> {
    let resolved: string;
    try {
      resolved = this.resolveName(name, options);
    } catch (e) {
      return Promise.reject(e);
    }
    let pending = this.#backends.get(resolved);
    if (pending === undefined) {
      pending = this.#open(resolved);
      this.#backends.set(resolved, pending);
      // Do not cache failures: the folder may be created or the config fixed before a retry.
      pending.catch(() => {
        if (this.#backends.get(resolved) === pending) this.#backends.delete(resolved);
      });
    }
    return pending;
  }

  async #open(name: string): Promise<StoreBackend> {
    const spec = this.spec(name);
    if (spec.protocol === "file") {
      let isDir = false;
      try {
        isDir = (await Deno.stat(spec.location)).isDirectory;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        if (this.#options.createFolders?.includes(name)) {
          await Deno.mkdir(spec.location, { recursive: true });
          isDir = true;
        }
      }
      if (!isDir) {
        throw new StoreError(
          `Inaccessible local directory ${spec.location} (stores.${name}.location): create the ` +
            `folder, or point the location at an existing one`,
        );
      }
      return new FileStore(name, spec);
    }
    return new S3Store(name, spec, this.#options.s3);
  }

  /** Closes every opened backend; later calls to `backend` open new ones. */
  async close(): Promise<void> {
    const pending = [...this.#backends.values()];
    this.#backends.clear();
    const settled = await Promise.allSettled(pending);
    await Promise.all(
      settled.map((s) => (s.status === "fulfilled" ? s.value.close() : Promise.resolve())),
    );
  }
}
