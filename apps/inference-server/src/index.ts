export { loadConfig, ConfigError, type InferenceServerConfig } from './config';
export { createInferenceServer, startInferenceServer, type InferenceServer, type InferenceServerOptions, type InferResponse } from './server';
export type { Logger } from './logger';
