/** The database a single-machine install uses when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/farm';
