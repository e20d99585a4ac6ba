// Node entry of the models library. Pages should import only what ./browser exports.
export * from './browser';
export * from './node/paths';
export * from './node/convert';
export * from './node/registry';
export * from './node/loader';
