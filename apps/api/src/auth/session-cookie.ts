/** The dashboard's session: an HttpOnly cookie holding the token it signed in with. */
export const SESSION_COOKIE = 'farm_session';
/** The whole site: the API and the operators' queue board at /admin/queues. */
export const SESSION_COOKIE_PATH = '/';

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
