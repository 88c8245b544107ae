// A queue's Redis URL, checked where a search file or `--queue` names one, before anything connects.

/** What is wrong with `url` as a Redis URL for the trial queue, or undefined when nothing is. */
export function queueUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL; write redis://host:port/db (or rediss:// for TLS)`;
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    return `the queue is a Redis URL (redis:// or rediss://), not ${parsed.protocol}//`;
  if (parsed.hostname === '') return `${redactedQueueUrl(url)} names no host`;
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,5}$/.test(db)) return `the database in ${redactedQueueUrl(url)} is "${db}", not a number`;
  return undefined;
}

/** The URL with its password replaced, for logs, errors and the run's notes. */
export function redactedQueueUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
