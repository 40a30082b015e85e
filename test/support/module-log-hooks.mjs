// Module customization hooks (node:module register) that report every ES module
// URL Node loads to the thread that registered them. See loaded-packages.ts.
let port;

export async function initialize(data) {
  port = data.port;
}

export async function load(url, context, nextLoad) {
  port.postMessage(url);
  return nextLoad(url, context);
}
