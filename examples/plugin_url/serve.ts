/**
 * Publishes this repository's TypeScript modules on loopback HTTP, so that `main.ts` can import
 * the plugin codecs of `examples/plugins/` by URL as if they were on a web server.
 *
 * `deno run --allow-net=127.0.0.1 --allow-read serve.ts [--port 8765]` serves
 * `http://127.0.0.1:<port>/<path in the repository>` for `.ts` files only, with a TypeScript
 * content type (Deno refuses a module served as, say, `video/mp2t`), and prints the URL of the
 * plugins folder. The whole repository is served, not just `examples/plugins/`, because the plugins
 * import the DataJoint core by relative paths (`../../codecs/registry.ts`); a plugin published for
 * real would import it from a registry (`jsr:@datajoint/deno`) instead. Stop it with Ctrl-C.
 *
 * @module
 */
import { join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const repository = fileURLToPath(new URL("../../", import.meta.url));
const portFlag = Deno.args.indexOf("--port");
const port = portFlag === -1 ? 8765 : Number(Deno.args[portFlag + 1]);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`serve.ts: --port takes a TCP port number (0 picks a free one)`);
  Deno.exit(2);
}

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen({ port }) {
    console.log(`serving ${repository} at http://127.0.0.1:${port}/`);
    console.log(`plugins: http://127.0.0.1:${port}/examples/plugins/`);
  },
}, async (request) => {
  const path = normalize(decodeURIComponent(new URL(request.url).pathname));
  // Only TypeScript modules inside the repository: no `..`, no other files (no .git, no .dj).
  if (path.split("/").includes("..") || path.includes("\0") || !path.endsWith(".ts")) {
    return new Response("not served", { status: 403 });
  }
  try {
    const text = await Deno.readTextFile(join(repository, path));
    return new Response(text, {
      headers: { "content-type": "application/typescript; charset=utf-8" },
    });
  } catch {
    return new Response("not found", { status: 404 });
  }
});
await server.finished;
