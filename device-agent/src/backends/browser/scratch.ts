import { x } from '../../../../apps/bench-web/src/server';
export const y = x;
