export * from './vocabulary';
export * from './job-spec';
export * from './devices';
export * from './results';
export * from './agents';
export * from './queues';
export * from './api';
export * from './env';
