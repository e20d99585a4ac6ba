// The part of @farm/models that runs in a web page as well as in Node: no Node built-ins here
// or in anything it imports.
export * from './lib/specs';
export * from './lib/pixels';
export * from './lib/image';
export * from './lib/preprocess';
export * from './lib/postprocess';
export * from './lib/classify';
export * from './lib/registered';
