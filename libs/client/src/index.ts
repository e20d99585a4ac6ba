export { FarmApi, FarmApiError, FarmApiUnreachableError, type FarmApiOptions } from './farm-api';
export { fixed, formatProgress, formatTable, outcomeLine, phaseTable, problemLines, studyTable } from './report';
