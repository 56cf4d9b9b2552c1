/**
 * The path of a request URL without its query string. Query values may hold anything a client
 * sent, secrets included, so logs, error bodies and audit rows keep only the path.
 */
export function pathOnly(url: string | undefined): string {
  return (url ?? '').split('?')[0].slice(0, 256);
}
