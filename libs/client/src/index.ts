export { FarmApi, type FarmApiOptions } from './farm-api';
