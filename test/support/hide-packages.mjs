// `node --import this-file`: packages named in ABRCAST_TEST_HIDE_PACKAGES (comma-
// separated) resolve as if they were not installed, as after `npm install
// --omit=optional`. The resolve hook asks Node for a package name that does not
// exist, so the error is Node's own ERR_MODULE_NOT_FOUND, not a made-up one.
import { register } from 'node:module';

const hidden = (process.env.ABRCAST_TEST_HIDE_PACKAGES ?? '').split(',').filter(Boolean);
if (hidden.length > 0) {
  const hooks = `
    const hidden = ${JSON.stringify(hidden)};
    export async function resolve(specifier, context, nextResolve) {
      const name = hidden.find((pkg) => specifier === pkg || specifier.startsWith(pkg + '/'));
      return nextResolve(name ? specifier.replace(name, name + '-not-installed') : specifier, context);
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
}
