/**
 * Loaded first by the package entry: Nest 12 is ESM-only, and this CommonJS
 * package loads it through `require(esm)`, which Node.js has without a flag
 * from 20.19 (and 22.12). On an older Node.js, say so instead of ERR_REQUIRE_ESM.
 */
try {
  // A require, not an import: the point is to catch the error it throws.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@nestjs/common');
} catch (err) {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') {
    throw new Error(
      `nestjs-ledger cannot load @nestjs/common on Node.js ${process.version}: Nest 12 is published as ES modules, which this ` +
        'CommonJS package loads with require(esm). Run Node.js 20.19 or later (22.12 or later on Node.js 22), ' +
        `without --no-experimental-require-module; or use Nest 11. (${code})`,
      { cause: err },
    );
  }
  throw err;
}
